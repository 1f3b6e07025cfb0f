/**
 * Checking configuration at creation: every Tandem package validates its own options with these,
 * so a bad value fails with INVALID_CONFIG naming the option (`details.option`, `details.reason`)
 * before anything is served.
 */
import { ErrorCode, TandemError } from './errors';

export function invalidOption(option: string, reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_CONFIG, `invalid option ${option}: ${reason}`, { option, reason });
}

export function plainObject(option: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidOption(option, 'must be an object');
  return value as Record<string, unknown>;
}

export function knownKeys(option: string, value: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const key of Object.keys(value))
    if (!known.has(key)) throw invalidOption(`${option}.${key}`, 'unknown option');
}

/** Numbers that count things (sizes, intervals, milliseconds) must be positive integers. */
export function positiveIntegers(
  option: string,
  value: Record<string, unknown>,
  keys: readonly string[],
): void {
  for (const key of keys) {
    const n = value[key];
    if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1))
      throw invalidOption(`${option}.${key}`, 'must be a positive integer');
  }
}

/** An injected clock (`now`), when given, must be a function. */
export function clockOption(option: string, value: Record<string, unknown>): void {
  if (value.now !== undefined && typeof value.now !== 'function')
    throw invalidOption(`${option}.now`, 'must be a function');
}
