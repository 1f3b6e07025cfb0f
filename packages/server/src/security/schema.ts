/**
 * An optional JSON Schema per collection, checked with ajv on the document an op produces (in
 * ShareDB's commit step, so it sees the op already transformed and applied). Schemas are compiled
 * once, at creation: an invalid schema is INVALID_CONFIG then, never a run-time surprise.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { Ajv, type AnySchema } from 'ajv';

export type CollectionSchemas = Readonly<Record<string, AnySchema>>;

/** Throws SCHEMA_VIOLATION with `details.path` (a JSON pointer) naming the first failing path. */
export type SchemaCheck = (data: unknown) => void;

export function compileSchemas(
  schemas: CollectionSchemas | undefined,
): (collection: string) => SchemaCheck | undefined {
  if (schemas === undefined) return () => undefined;
  // allErrors off: the first failure is enough to refuse, and cheaper.
  const ajv = new Ajv({ allErrors: false, strict: false });
  const checks = new Map<string, SchemaCheck>();
  for (const [collection, schema] of Object.entries(schemas)) {
    let validate: ReturnType<Ajv['compile']>;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      throw new TandemError(ErrorCode.INVALID_CONFIG, `invalid schema for collection '${collection}'`, {
        option: 'validation.schemas',
        reason: error instanceof Error ? error.message : String(error),
      });
    }
    checks.set(collection, (data) => {
      if (validate(data)) return;
      const first = validate.errors?.[0];
      const path = first?.instancePath === '' || first === undefined ? '/' : first.instancePath;
      throw new TandemError(ErrorCode.SCHEMA_VIOLATION, `${path} ${first?.message ?? 'is invalid'}`, {
        path,
        keyword: first?.keyword ?? 'unknown',
        collection,
      });
    });
  }
  return (collection) => checks.get(collection);
}
