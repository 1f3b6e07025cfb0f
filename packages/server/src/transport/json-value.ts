/**
 * The first look at a decoded frame: plain JSON data only, nested no deeper than the limit.
 * Everything after it may recurse over the message (ShareDB, OT, validation) and may echo it back
 * (ShareDB answers a refused request with the request itself), so what passes here must be safe to
 * walk and to encode again, in either codec, for every client that will receive it.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';

function invalid(reason: string, message: string): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, `not plain JSON data: ${message}`, { reason });
}

/**
 * Undefined when `value` is JSON data (strings, finite numbers, booleans, null, plain arrays and
 * plain objects without an own `__proto__` key) at most `maxDepth` containers deep; else the error.
 * msgpack decodes dates, bytes, extension types, NaN and Infinity, which JSON clients would see as
 * something else (replicas would disagree); a `__proto__` key cannot be decoded by msgpack clients.
 * Iterative: a hostile value must not recurse us to death.
 */
export function checkJsonValue(value: unknown, maxDepth: number): TandemError | undefined {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop() as number;
    switch (typeof v) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(v)) return invalid('number', `${v} is not a JSON number`);
        continue;
      case 'object': {
        if (v === null) continue;
        if (depth >= maxDepth)
          return new TandemError(ErrorCode.TOO_LARGE, 'message nested too deeply', {
            what: 'depth',
            limit: maxDepth,
          });
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            values.push(v[i]);
            depths.push(depth + 1);
          }
          continue;
        }
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null)
          return invalid('type', `${proto?.constructor?.name ?? 'an object'} is not JSON`);
        if (Object.hasOwn(v, '__proto__')) return invalid('key', '__proto__ is not allowed as a key');
        for (const key in v) {
          values.push((v as Record<string, unknown>)[key]);
          depths.push(depth + 1);
        }
        continue;
      }
      default:
        return invalid('type', `a ${typeof v} is not JSON`);
    }
  }
  return undefined;
}
