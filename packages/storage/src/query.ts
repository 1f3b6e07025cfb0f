import { ErrorCode, TandemError } from '@tandem/protocol';

/**
 * The Mongo-style query subset the SQL stores (SQLite, PostgreSQL) answer over snapshot data. This
 * module is its one definition: it parses and bounds a query; each store compiles the result to its
 * own SQL, with the same meaning.
 *
 * Supported (what ShareDB's conformance suite and Tandem use; anything else is rejected rather than
 * silently ignored):
 * - `{ field: value }`, `{ 'nested.field': value }`: equality (objects and arrays compare as JSON);
 *   `null` matches null or missing, and a string or number matches an array holding it, as in Mongo.
 * - `{ field: { $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists } }`. `$ne` and `$nin` match a
 *   document without the field; `$gt`… compare only values of the operand's type (numbers with
 *   numbers, strings with strings by code point, booleans with booleans), as in Mongo.
 * - `$sort: { field: 1 | -1, … }` (or `[[field, 1 | -1], …]`), `$skip`, `$limit`; the document id
 *   breaks ties. Ascending, missing and null come first, then numbers, then strings (by code point);
 *   where other types fall is the store's.
 * - `$count: true`: no snapshots, the number of matches as ShareDB's query `extra`.
 */
export type SqlQuery = Record<string, unknown>;

export type Comparison = 'gt' | 'gte' | 'lt' | 'lte';

/** One test on one field; a field's tests all hold (AND). */
export type FieldTest =
  | { op: 'in'; values: unknown[] }
  | { op: 'nin'; values: unknown[] }
  | { op: Comparison; value: string | number | boolean }
  | { op: 'exists'; exists: boolean };

export interface FieldCondition {
  /** The dotted path split into keys (each non-empty, no quotes, backslashes or control characters). */
  keys: string[];
  tests: FieldTest[];
}

export interface SortKey {
  keys: string[];
  descending: boolean;
}

export interface ParsedQuery {
  /** All must hold (AND). */
  conditions: FieldCondition[];
  sort: SortKey[];
  /** null: no limit. */
  limit: number | null;
  skip: number;
  count: boolean;
}

/** Values one `$in`/`$nin` may list: each is a condition, and SQLite bounds an expression's depth (1,000). */
export const MAX_IN_VALUES = 256;
/** Fields one query may test, and keys it may sort by. */
const MAX_FIELDS = 64;
const MAX_SORT_KEYS = 16;
/**
 * Values in one query, all fields together: each becomes a few SQL parameters and conditions
 * (SQLite binds at most 32,766 parameters, PostgreSQL 65,535); no honest query comes near.
 */
export const MAX_QUERY_VALUES = 1_024;

function invalid(message: string, details?: Record<string, unknown>): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, message, details);
}

function tooLarge(what: string, limit: number, actual: number): TandemError {
  return new TandemError(ErrorCode.TOO_LARGE, `the query has too many ${what}`, {
    what: 'query',
    limit,
    actual,
  });
}

/**
 * Characters no honest field name has, and which SQLite's quoted JSON path keys cannot hold (a quote
 * ends the key; NUL ends the string).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const UNQUOTABLE = /["\\\u0000-\u001f]/;

function pathKeys(field: string): string[] {
  const keys = field.split('.');
  if (keys.some((key) => key === '' || UNQUOTABLE.test(key)))
    throw invalid('a query field name may not be empty or hold quotes, backslashes or control characters', {
      reason: 'field',
    });
  return keys;
}

const COMPARISONS: Record<string, Comparison> = { $gt: 'gt', $gte: 'gte', $lt: 'lt', $lte: 'lte' };

/** A value compared or matched: numbers must be finite (JSON has no NaN or Infinity). */
function checked<T>(value: T, operator: string): T {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw invalid(`query operator ${operator} needs finite numbers`, { operator });
  return value;
}

function fieldTests(condition: unknown, count: (n: number) => void): FieldTest[] {
  const isOperatorObject =
    typeof condition === 'object' &&
    condition !== null &&
    !Array.isArray(condition) &&
    Object.keys(condition).length > 0 &&
    Object.keys(condition).every((key) => key.startsWith('$'));
  if (!isOperatorObject) {
    count(1);
    return [{ op: 'in', values: [checked(condition, '$eq')] }];
  }
  return Object.entries(condition as Record<string, unknown>).map(([operator, operand]): FieldTest => {
    if (operator === '$eq' || operator === '$ne') {
      count(1);
      return { op: operator === '$eq' ? 'in' : 'nin', values: [checked(operand, operator)] };
    }
    if (operator in COMPARISONS) {
      if (typeof operand !== 'number' && typeof operand !== 'string' && typeof operand !== 'boolean')
        throw invalid(`query operator ${operator} needs a number, string or boolean`, { operator });
      count(1);
      return { op: COMPARISONS[operator], value: checked(operand, operator) };
    }
    if (operator === '$in' || operator === '$nin') {
      if (!Array.isArray(operand)) throw invalid(`${operator} needs an array`, { operator });
      if (operand.length > MAX_IN_VALUES)
        throw new TandemError(ErrorCode.TOO_LARGE, `${operator} lists too many values`, {
          what: 'query',
          limit: MAX_IN_VALUES,
          actual: operand.length,
        });
      count(operand.length);
      return { op: operator === '$in' ? 'in' : 'nin', values: operand.map((v) => checked(v, operator)) };
    }
    if (operator === '$exists') return { op: 'exists', exists: Boolean(operand) };
    throw invalid(`unsupported query operator ${operator}`, { operator });
  });
}

function sortKeys(sort: unknown): SortKey[] {
  const entries = Array.isArray(sort) ? sort : Object.entries((sort ?? {}) as Record<string, unknown>);
  if (entries.length > MAX_SORT_KEYS) throw tooLarge('sort keys', MAX_SORT_KEYS, entries.length);
  return entries.map((entry) => {
    const [field, direction] = entry as [unknown, unknown];
    if (typeof field !== 'string' || (direction !== 1 && direction !== -1)) {
      throw invalid('$sort needs { field: 1 | -1 }', { sort: String(field) });
    }
    return { keys: pathKeys(field), descending: direction === -1 };
  });
}

/** `$skip`/`$limit`: the stores take 64-bit integers; anything past 2^53 is not one here. */
function nonNegativeInteger(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw invalid(`${name} needs a non-negative integer`);
  return value as number;
}

/** Check and bound a query; throws INVALID_MESSAGE or TOO_LARGE (a TandemError) for anything else. */
export function parseQuery(query: unknown): ParsedQuery {
  if (typeof query !== 'object' || query === null || Array.isArray(query)) {
    throw invalid('a query must be an object');
  }
  const keys = Object.keys(query);
  if (keys.length > MAX_FIELDS) throw tooLarge('fields', MAX_FIELDS, keys.length);
  let values = 0;
  const count = (n: number) => {
    values += n;
    if (values > MAX_QUERY_VALUES) throw tooLarge('values', MAX_QUERY_VALUES, values);
  };
  const parsed: ParsedQuery = { conditions: [], sort: [], limit: null, skip: 0, count: false };
  for (const [key, value] of Object.entries(query)) {
    if (key === '$sort') parsed.sort = sortKeys(value);
    else if (key === '$skip') parsed.skip = nonNegativeInteger(value, '$skip');
    else if (key === '$limit') parsed.limit = nonNegativeInteger(value, '$limit');
    else if (key === '$count') parsed.count = Boolean(value);
    else if (key.startsWith('$')) throw invalid(`unsupported query key ${key}`, { key });
    else parsed.conditions.push({ keys: pathKeys(key), tests: fieldTests(value, count) });
  }
  return parsed;
}

/** A query that can be checked against one document alone (ShareDB's `queryPollDoc`). */
export function isPerDocument(query: unknown): boolean {
  if (typeof query !== 'object' || query === null) return false;
  return !Object.keys(query).some(
    (key) => key === '$sort' || key === '$skip' || key === '$limit' || key === '$count',
  );
}

/**
 * Split `$in` values by how they are matched: `null` (null or missing), scalars that also match an
 * array element (strings, numbers), and values matched as whole JSON (booleans, objects, arrays).
 */
export function splitValues(values: unknown[]): {
  null: boolean;
  scalars: (string | number)[];
  json: unknown[];
} {
  const split = { null: false, scalars: [] as (string | number)[], json: [] as unknown[] };
  for (const value of values) {
    if (value === null || value === undefined) split.null = true;
    else if (typeof value === 'string' || typeof value === 'number') split.scalars.push(value);
    else split.json.push(value);
  }
  return split;
}
