import {
  type Comparison,
  type FieldTest,
  type ParsedQuery,
  parseQuery,
  type SortKey,
  splitValues,
} from '../query';

export interface CompiledQuery {
  /** SQL boolean expression over the `snapshots` table (alias-free), with `?` parameters. */
  where: string;
  params: unknown[];
  orderBy: string;
  limit: number;
  offset: number;
  count: boolean;
}

const OPERATORS: Record<Comparison, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** A parsed path as an SQLite JSON path: every key quoted (the parser refused keys quotes cannot hold). */
export function jsonPath(keys: string[]): string {
  return `$${keys.map((key) => `."${key}"`).join('')}`;
}

/** `json_type` of each type a comparison operand can have (`json_extract` yields 1/0 for booleans). */
function typeTest(value: string | number | boolean): string {
  if (typeof value === 'number') return "IN ('integer', 'real')";
  if (typeof value === 'string') return "= 'text'";
  return "IN ('true', 'false')";
}

/** Any of `values`, by Mongo equality. `data -> path` renders the stored value as JSON text. */
function anyOf(path: string, values: unknown[], params: unknown[]): string {
  const split = splitValues(values);
  const parts: string[] = [];
  if (split.null) {
    params.push(path, path);
    parts.push("data -> ? IS NULL OR data -> ? = 'null'");
  }
  const whole = [...split.scalars, ...split.json];
  if (whole.length > 0) {
    params.push(path, ...whole.map((v) => JSON.stringify(v)));
    parts.push(`data -> ? IN (${whole.map(() => '?').join(', ')})`);
  }
  if (split.scalars.length > 0) {
    // As in Mongo, a scalar also matches an array holding it (`{ tags: 'x' }` finds `tags: ['x', 'y']`).
    params.push(path, path, ...split.scalars);
    parts.push(
      `(json_type(data, ?) = 'array' AND EXISTS (SELECT 1 FROM json_each(data, ?) AS e WHERE e.type IN ('text', 'integer', 'real') AND e.value IN (${split.scalars.map(() => '?').join(', ')})))`,
    );
  }
  return parts.length === 0 ? '0' : `(${parts.join(' OR ')})`;
}

function testSql(path: string, test: FieldTest, params: unknown[]): string {
  switch (test.op) {
    case 'in':
      return anyOf(path, test.values, params);
    // IS NOT TRUE, not NOT: a missing field makes the match NULL, and Mongo's $nin matches it.
    case 'nin':
      return `${anyOf(path, test.values, params)} IS NOT TRUE`;
    case 'exists':
      params.push(path);
      return test.exists ? 'json_type(data, ?) IS NOT NULL' : 'json_type(data, ?) IS NULL';
    default: {
      const value = typeof test.value === 'boolean' ? (test.value ? 1 : 0) : test.value;
      params.push(path, path, value);
      return `(json_type(data, ?) ${typeTest(test.value)} AND json_extract(data, ?) ${OPERATORS[test.op]} ?)`;
    }
  }
}

function orderBy(sort: SortKey[]): string {
  return sort
    .map(({ keys, descending }) => {
      // A path is SQL text here, not a parameter: ORDER BY cannot bind; jsonPath quotes every key.
      const path = jsonPath(keys).replaceAll("'", "''");
      return `json_extract(data, '${path}') ${descending ? 'DESC' : 'ASC'}`;
    })
    .join(', ');
}

/** A Mongo-style query (see `SqlQuery` in ../query) as SQL over the JSON `data` column. */
export function compileQuery(query: unknown): CompiledQuery {
  const parsed: ParsedQuery = parseQuery(query);
  const params: unknown[] = [];
  const conditions = parsed.conditions.flatMap(({ keys, tests }) => {
    const path = jsonPath(keys);
    return tests.map((test) => `(${testSql(path, test, params)})`);
  });
  return {
    where: conditions.length > 0 ? conditions.join(' AND ') : '1',
    params,
    orderBy: orderBy(parsed.sort),
    limit: parsed.limit ?? -1,
    offset: parsed.skip,
    count: parsed.count,
  };
}
