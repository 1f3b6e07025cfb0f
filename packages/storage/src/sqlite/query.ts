import { ErrorCode, TandemError } from '@tandem/protocol';

/**
 * A Mongo-style query over snapshot data, compiled to SQL over the JSON `data` column.
 *
 * Supported (what ShareDB's conformance suite and Tandem use; anything else is rejected rather than
 * silently ignored):
 * - `{ field: value }`, `{ 'nested.field': value }`: equality (objects and arrays compare as JSON);
 *   `null` matches null or missing, and a string or number matches an array holding it, as in Mongo.
 * - `{ field: { $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists } }`.
 * - `$sort: { field: 1 | -1, … }` (or `[[field, 1 | -1], …]`), `$skip`, `$limit`.
 * - `$count: true`: no snapshots, the number of matches as ShareDB's query `extra`.
 */
export type SqliteQuery = Record<string, unknown>;

export interface CompiledQuery {
  /** SQL boolean expression over the `snapshots` table (alias-free), with `?` parameters. */
  where: string;
  params: unknown[];
  orderBy: string;
  limit: number;
  offset: number;
  count: boolean;
}

const comparisons: Record<string, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };

function invalid(message: string, details?: Record<string, unknown>): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, message, details);
}

/**
 * Keys SQLite's JSON paths cannot quote (a quote ends the key; NUL ends the string) and characters
 * no honest field name has (backslashes, control characters).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const UNQUOTABLE = /["\\\u0000-\u001f]/;

/** A Mongo dotted path as an SQLite JSON path: every key quoted. */
export function jsonPath(field: string): string {
  const keys = field.split('.');
  if (keys.some((key) => key === '' || UNQUOTABLE.test(key)))
    throw invalid('a query field name may not be empty or hold quotes, backslashes or control characters', {
      reason: 'field',
    });
  return `$${keys.map((key) => `."${key}"`).join('')}`;
}

/** Values one `$in`/`$nin` may list: each is a condition, and SQLite bounds an expression's depth (1,000). */
export const MAX_IN_VALUES = 256;
/** Fields one query may test or sort by, and parameters it may bind (SQLite allows 32,766). */
const MAX_FIELDS = 64;
const MAX_SORT_KEYS = 16;
const MAX_PARAMS = 8_192;

function tooLarge(what: string, limit: number, actual: number): TandemError {
  return new TandemError(ErrorCode.TOO_LARGE, `the query has too many ${what}`, {
    what: 'query',
    limit,
    actual,
  });
}

/** SQL parameter for a scalar compared with `json_extract` (which yields 1/0 for booleans). */
function scalar(value: unknown, operator: string): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'string') return value;
  throw invalid(`query operator ${operator} needs a number, string or boolean`, { operator });
}

/** `data -> path` renders the stored value as JSON, so equality of any JSON value is text equality. */
function equals(path: string, value: unknown, params: unknown[]): string {
  if (value === null) {
    params.push(path, path);
    return "(data -> ? IS NULL OR data -> ? = 'null')";
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    params.push(path, JSON.stringify(value));
    return 'data -> ? = ?';
  }
  // As in Mongo, a scalar also matches an array holding it (`{ tags: 'x' }` finds `tags: ['x', 'y']`).
  params.push(path, JSON.stringify(value), path, path, value);
  return `(data -> ? = ? OR (json_type(data, ?) = 'array' AND EXISTS (SELECT 1 FROM json_each(data, ?) AS e WHERE e.type IN ('text', 'integer', 'real') AND e.value = ?)))`;
}

function fieldCondition(field: string, condition: unknown, params: unknown[]): string {
  const path = jsonPath(field);
  const isOperatorObject =
    typeof condition === 'object' &&
    condition !== null &&
    !Array.isArray(condition) &&
    Object.keys(condition).length > 0 &&
    Object.keys(condition).every((key) => key.startsWith('$'));
  if (!isOperatorObject) return equals(path, condition, params);

  const parts: string[] = [];
  for (const [operator, operand] of Object.entries(condition as Record<string, unknown>)) {
    if (operator === '$eq') parts.push(equals(path, operand, params));
    else if (operator === '$ne') parts.push(`NOT (${equals(path, operand, params)})`);
    else if (operator in comparisons) {
      params.push(path, scalar(operand, operator));
      parts.push(`json_extract(data, ?) ${comparisons[operator]} ?`);
    } else if (operator === '$in' || operator === '$nin') {
      if (!Array.isArray(operand)) throw invalid(`${operator} needs an array`, { operator });
      if (operand.length > MAX_IN_VALUES)
        throw new TandemError(ErrorCode.TOO_LARGE, `${operator} lists too many values`, {
          what: 'query',
          limit: MAX_IN_VALUES,
          actual: operand.length,
        });
      const any =
        operand.length === 0 ? '0' : `(${operand.map((v) => equals(path, v, params)).join(' OR ')})`;
      parts.push(operator === '$in' ? any : `NOT ${any}`);
    } else if (operator === '$exists') {
      params.push(path);
      parts.push(operand ? 'json_type(data, ?) IS NOT NULL' : 'json_type(data, ?) IS NULL');
    } else {
      throw invalid(`unsupported query operator ${operator}`, { operator });
    }
  }
  return parts.join(' AND ');
}

function sortEntries(sort: unknown): [string, number][] {
  const entries = Array.isArray(sort) ? sort : Object.entries((sort ?? {}) as Record<string, unknown>);
  if (entries.length > MAX_SORT_KEYS) throw tooLarge('sort keys', MAX_SORT_KEYS, entries.length);
  return entries.map((entry) => {
    const [field, direction] = entry as [unknown, unknown];
    if (typeof field !== 'string' || (direction !== 1 && direction !== -1)) {
      throw invalid('$sort needs { field: 1 | -1 }', { sort: String(field) });
    }
    return [field, direction];
  });
}

/** `$skip`/`$limit`: SQLite takes 64-bit integers; anything past 2^53 is not one here. */
function nonNegativeInteger(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw invalid(`${name} needs a non-negative integer`);
  return value as number;
}

export function compileQuery(query: unknown): CompiledQuery {
  if (typeof query !== 'object' || query === null || Array.isArray(query)) {
    throw invalid('a query must be an object');
  }
  const keys = Object.keys(query);
  if (keys.length > MAX_FIELDS) throw tooLarge('fields', MAX_FIELDS, keys.length);
  const params: unknown[] = [];
  const conditions: string[] = [];
  const compiled: CompiledQuery = { where: '1', params, orderBy: '', limit: -1, offset: 0, count: false };
  for (const [key, value] of Object.entries(query)) {
    if (key === '$sort') {
      const order = sortEntries(value).map(([field, direction]) => {
        // A path is SQL text here, not a parameter: ORDER BY cannot bind; jsonPath quotes every key.
        const path = jsonPath(field).replaceAll("'", "''");
        return `json_extract(data, '${path}') ${direction === 1 ? 'ASC' : 'DESC'}`;
      });
      compiled.orderBy = order.join(', ');
    } else if (key === '$skip') compiled.offset = nonNegativeInteger(value, '$skip');
    else if (key === '$limit') compiled.limit = nonNegativeInteger(value, '$limit');
    else if (key === '$count') compiled.count = Boolean(value);
    else if (key.startsWith('$')) throw invalid(`unsupported query key ${key}`, { key });
    else conditions.push(fieldCondition(key, value, params));
  }
  if (params.length > MAX_PARAMS) throw tooLarge('values', MAX_PARAMS, params.length);
  if (conditions.length > 0) compiled.where = conditions.map((c) => `(${c})`).join(' AND ');
  return compiled;
}

/** A query that can be checked against one document alone (ShareDB's `queryPollDoc`). */
export function isPerDocument(query: unknown): boolean {
  if (typeof query !== 'object' || query === null) return false;
  return !Object.keys(query).some(
    (key) => key === '$sort' || key === '$skip' || key === '$limit' || key === '$count',
  );
}
