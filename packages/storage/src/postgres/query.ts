import { ErrorCode, TandemError } from '@tandem/protocol';
import { type Comparison, type FieldTest, parseQuery, splitValues } from '../query';
import { hasUnstorableText } from './text';

/**
 * The query subset (see `SqlQuery` in ../query) compiled for PostgreSQL. Expressions read the
 * snapshot as `doc` (jsonb) and a field as `doc #> path`, which is NULL when the field is missing.
 */
export interface CompiledQuery {
  where: string;
  orderBy: string;
  /** null: no limit. */
  limit: number | null;
  offset: number;
  count: boolean;
}

const OPERATORS: Record<Comparison, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** Binds values as `$n` parameters after those already in `params`. */
class Binder {
  constructor(readonly params: unknown[]) {}

  bind(value: unknown): string {
    if (hasUnstorableText(value))
      throw new TandemError(
        ErrorCode.INVALID_MESSAGE,
        'a query value or field may not hold NUL or unpaired surrogate characters',
      );
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/** Any of `values`, by Mongo equality: jsonb equality, plus scalars found in an array. */
function anyOf(field: string, values: unknown[], binder: Binder): string {
  const split = splitValues(values);
  const parts: string[] = [];
  if (split.null) parts.push(`${field} IS NULL OR ${field} = 'null'::jsonb`);
  const whole = [...split.scalars, ...split.json].map((v) => JSON.stringify(v));
  if (whole.length > 0) parts.push(`${field} = ANY(${binder.bind(whole)}::jsonb[])`);
  if (split.scalars.length > 0) {
    // As in Mongo, a scalar also matches an array holding it: `["x","y"] @> '["x"]'` (top-level only).
    const wrapped = split.scalars.map((v) => JSON.stringify([v]));
    parts.push(`(jsonb_typeof(${field}) = 'array' AND ${field} @> ANY(${binder.bind(wrapped)}::jsonb[]))`);
  }
  return parts.length === 0 ? 'false' : `(${parts.join(' OR ')})`;
}

/** A comparison between values of the operand's type only; strings by code point (collation "C"). */
function compare(field: string, op: Comparison, value: string | number | boolean, binder: Binder): string {
  if (typeof value === 'string')
    return `(jsonb_typeof(${field}) = 'string' AND (${field} #>> '{}') COLLATE "C" ${OPERATORS[op]} ${binder.bind(value)}::text)`;
  const type = typeof value === 'number' ? 'number' : 'boolean';
  return `(jsonb_typeof(${field}) = '${type}' AND ${field} ${OPERATORS[op]} ${binder.bind(JSON.stringify(value))}::jsonb)`;
}

function testSql(field: string, test: FieldTest, binder: Binder): string {
  switch (test.op) {
    case 'in':
      return anyOf(field, test.values, binder);
    // IS NOT TRUE, not NOT: a missing field makes the match NULL, and Mongo's $nin matches it.
    case 'nin':
      return `${anyOf(field, test.values, binder)} IS NOT TRUE`;
    case 'exists':
      return test.exists ? `${field} IS NOT NULL` : `${field} IS NULL`;
    default:
      return compare(field, test.op, test.value, binder);
  }
}

/**
 * One sort key as three: the type's rank (missing and null first, then numbers, strings, booleans,
 * arrays, objects), the value for non-strings (jsonb order), the string by code point.
 */
function sortSql(field: string, direction: string): string {
  const type = `jsonb_typeof(${field})`;
  return [
    `CASE ${type} WHEN 'number' THEN 1 WHEN 'string' THEN 2 WHEN 'boolean' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 5 ELSE 0 END ${direction}`,
    `CASE WHEN ${type} NOT IN ('string', 'null') THEN ${field} END ${direction}`,
    `(CASE WHEN ${type} = 'string' THEN ${field} #>> '{}' END) COLLATE "C" ${direction}`,
  ].join(', ');
}

/**
 * Compile `query` over the jsonb expression `doc`; its values are appended to `params` (which holds
 * the statement's own parameters already) and referenced as `$n`.
 */
export function compileQuery(query: unknown, params: unknown[]): CompiledQuery {
  const parsed = parseQuery(query);
  const binder = new Binder(params);
  const conditions = parsed.conditions.flatMap(({ keys, tests }) => {
    const field = `(doc #> ${binder.bind(keys)}::text[])`;
    return tests.map((test) => `(${testSql(field, test, binder)})`);
  });
  const orderBy = parsed.sort
    .map(({ keys, descending }) =>
      sortSql(`(doc #> ${binder.bind(keys)}::text[])`, descending ? 'DESC' : 'ASC'),
    )
    .join(', ');
  return {
    where: conditions.length > 0 ? conditions.join(' AND ') : 'true',
    orderBy,
    limit: parsed.limit,
    offset: parsed.skip,
    count: parsed.count,
  };
}
