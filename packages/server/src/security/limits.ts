/**
 * Input validation of what clients write: op size, string length, nesting depth, lone surrogates,
 * allowed collections, document size, and (schema.ts) a JSON Schema per collection. Each check
 * answers with a typed error naming the limit; a refused op commits nothing and rolls back on its
 * sender. Checks walk the op, not the document, so their cost follows the edit, not the document.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { opComponents } from './permissions';
import { type CollectionSchemas, compileSchemas, type SchemaCheck } from './schema';

export interface ValidationOptions {
  /** Largest op (its JSON). A big paste fits; the frame limit bounds it anyway. @default 1_048_576 */
  maxOpBytes?: number;
  /**
   * Largest document (its JSON). MongoDB refuses documents over 16 MiB, so a bigger one could not
   * move to the Mongo preset. @default 16_777_216
   */
  maxDocumentBytes?: number;
  /**
   * Deepest path in a document; recursive code (diff, transform) must not blow the stack. Messages
   * may nest `2 × maxDepth + 8` levels (an op descends one array per key, then the value it
   * inserts). At most 256. @default 64
   */
  maxDepth?: number;
  /** Longest string an op may carry (UTF-16 units). @default 1_048_576 */
  maxStringLength?: number;
  /** Collections clients may use; others are NOT_FOUND. A list or a predicate. @default every collection */
  collections?: readonly string[] | ((name: string) => boolean);
  /** A JSON Schema per collection, checked (ajv) on the document an op produces. @default none */
  schemas?: CollectionSchemas;
}

export interface ResolvedValidation {
  maxOpBytes: number;
  maxDocumentBytes: number;
  maxDepth: number;
  /** Deepest nesting of any message a client sends (see `maxDepth`). */
  maxMessageDepth: number;
  maxStringLength: number;
  collectionAllowed: (name: string) => boolean;
  schemaFor: (collection: string) => SchemaCheck | undefined;
}

/** The largest `maxDepth`: messages then nest at most 520 levels, well inside the encoders' 1,024. */
const MAX_DOCUMENT_DEPTH = 256;

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0))
    throw new TandemError(
      ErrorCode.INVALID_CONFIG,
      `invalid option validation.${name}: must be a positive number`,
      {
        option: `validation.${name}`,
      },
    );
  return value;
}

export function resolveValidation(options: ValidationOptions | undefined): ResolvedValidation {
  const o = options ?? {};
  const collections = o.collections;
  let collectionAllowed: (name: string) => boolean = () => true;
  if (typeof collections === 'function') collectionAllowed = (name) => collections(name) === true;
  else if (Array.isArray(collections)) {
    const set = new Set(collections);
    collectionAllowed = (name) => set.has(name);
  } else if (collections !== undefined) {
    throw new TandemError(ErrorCode.INVALID_CONFIG, 'invalid option validation.collections', {
      option: 'validation.collections',
    });
  }
  const maxDepth = positive('maxDepth', o.maxDepth, 64);
  // The encoders' own depth bound (1,024, codecs.ts) must stay above any message we accept.
  if (maxDepth > MAX_DOCUMENT_DEPTH)
    throw new TandemError(
      ErrorCode.INVALID_CONFIG,
      `invalid option validation.maxDepth: at most ${MAX_DOCUMENT_DEPTH}`,
      {
        option: 'validation.maxDepth',
      },
    );
  return {
    maxOpBytes: positive('maxOpBytes', o.maxOpBytes, 1_048_576),
    maxDocumentBytes: positive('maxDocumentBytes', o.maxDocumentBytes, 16_777_216),
    maxDepth,
    maxMessageDepth: 2 * Math.floor(maxDepth) + 8,
    maxStringLength: positive('maxStringLength', o.maxStringLength, 1_048_576),
    collectionAllowed,
    schemaFor: compileSchemas(o.schemas),
  };
}

/** In `u` mode a valid pair is one code point, so only an unpaired surrogate matches. */
const LONE_SURROGATE = /\p{Cs}/u;

const tooLarge = (what: string, limit: number, actual: number) =>
  new TandemError(ErrorCode.TOO_LARGE, `${what} over the limit`, { what, limit, actual });

/** Depth of a value (a scalar is 0, `{a: 1}` is 1). Iterative: a hostile value must not recurse us to death. */
export function depthOf(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > max) max = d + 1;
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** Every string (values and keys) in a value, checked for length and lone surrogates. */
function checkStrings(value: unknown, maxLength: number): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.length > maxLength) throw tooLarge('string', maxLength, v.length);
      // A lone surrogate is not Unicode: stores and other clients would each mangle it differently.
      if (LONE_SURROGATE.test(v))
        throw new TandemError(ErrorCode.INVALID_OP, 'string with a lone surrogate', { reason: 'surrogate' });
    } else if (typeof v === 'object' && v !== null) {
      for (const [key, child] of Object.entries(v)) {
        stack.push(key);
        stack.push(child);
      }
    }
  }
}

/**
 * Check a submitted op (ShareDB form: `{ op } | { create: { data } } | { del }`) before it is applied.
 * @returns the op's JSON size, for the document-size estimate
 */
export function checkSubmittedOp(
  op: { op?: unknown; create?: { data?: unknown } },
  limits: ResolvedValidation,
): number {
  const body = op.create !== undefined ? op.create.data : op.op;
  if (body === undefined) return 0;
  const json = JSON.stringify(body);
  const bytes = json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
  if (bytes > limits.maxOpBytes) throw tooLarge('op', limits.maxOpBytes, bytes);
  checkStrings(body, limits.maxStringLength);
  if (op.create !== undefined) {
    const depth = depthOf(body, limits.maxDepth);
    if (depth > limits.maxDepth) throw tooLarge('depth', limits.maxDepth, depth);
    return bytes;
  }
  // The depth an insert reaches: where it is inserted plus the depth of what is inserted.
  for (const { path, component } of opComponents(body)) {
    const depth = path.length + ('i' in component ? depthOf(component.i, limits.maxDepth) : 0);
    if (depth > limits.maxDepth) throw tooLarge('depth', limits.maxDepth, depth);
  }
  return bytes;
}

/** The value at `path` in a document (undefined when there is none). */
function dig(data: unknown, path: readonly (string | number)[]): unknown {
  let at = data;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key as string];
  }
  return at;
}

/**
 * What an op's values cannot show: a number added to (`ena`) may leave the finite range, and a
 * moved subtree (`d`, a drop) may land deeper than `maxDepth`. json1 applies drops and edits at
 * their paths in the resulting document, so only those places are looked at, never the whole
 * document.
 */
export function checkResultingDocument(op: unknown, data: unknown, limits: ResolvedValidation): void {
  for (const { path, component } of opComponents(op)) {
    if ('ena' in component) {
      const value = dig(data, path);
      if (typeof value === 'number' && !Number.isFinite(value))
        throw new TandemError(ErrorCode.INVALID_OP, 'the op makes a number that JSON cannot hold', {
          reason: 'number',
        });
    }
    if ('d' in component) {
      const depth = path.length + depthOf(dig(data, path), limits.maxDepth);
      if (depth > limits.maxDepth) throw tooLarge('depth', limits.maxDepth, depth);
    }
  }
}

/** The resulting document's size against the limit (measured only when an estimate says it may be close). */
export class DocumentSizes {
  /** Upper-bound estimates by `collection/id`; cleared wholesale past this many documents. */
  private readonly estimates = new Map<string, number>();
  private static readonly MAX_TRACKED = 10_000;

  constructor(private readonly limit: number) {}

  check(key: string, opBytes: number, data: () => unknown): void {
    const estimate = (this.estimates.get(key) ?? Number.POSITIVE_INFINITY) + opBytes;
    if (estimate <= this.limit) {
      this.estimates.set(key, estimate);
      return;
    }
    const json = JSON.stringify(data());
    const actual = json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
    if (actual > this.limit) throw tooLarge('document', this.limit, actual);
    if (this.estimates.size >= DocumentSizes.MAX_TRACKED) this.estimates.clear();
    this.estimates.set(key, actual);
  }
}
