/** Paths: glob-like patterns, prefix tests, reading a value at a path, the paths an op touches. */
import type { Doc, JSONOp, Key, Path } from '@tandem/ot';

/**
 * A compiled pattern: literal segments, `*` (exactly one segment) and a trailing `**` (the field at
 * that point and everything under it). Literal numbers match list indexes (`/items/0/title`).
 */
export interface Pattern {
  source: string;
  segments: readonly string[];
  /** True when the pattern ends in `**`. */
  deep: boolean;
}

/** Parse `/a/*\/b` or `/body/**`; a message saying what is wrong, or the pattern. */
export function parsePattern(source: string): Pattern | string {
  if (typeof source !== 'string' || !source.startsWith('/')) return 'a pattern starts with "/"';
  if (source === '/') return { source, segments: [], deep: false };
  const segments = source.slice(1).split('/');
  if (segments.some((s) => s === '')) return 'a pattern has no empty segments ("//" or a trailing "/")';
  const deepAt = segments.indexOf('**');
  if (deepAt !== -1 && deepAt !== segments.length - 1) return '"**" is only allowed as the last segment';
  if (segments.some((s) => s !== '*' && s !== '**' && s.includes('*'))) {
    return '"*" must be a whole segment (no partial wildcards such as "a*")';
  }
  const deep = deepAt !== -1;
  return { source, segments: deep ? segments.slice(0, -1) : segments, deep };
}

/**
 * The field a pattern selects for `path`: the prefix of `path` the pattern matches (a conflict deep
 * inside a matched field belongs to that field), or null when it does not apply.
 */
export function matchField(pattern: Pattern, path: Path): Path | null {
  const { segments } = pattern;
  if (path.length < segments.length) return null;
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] !== '*' && segments[i] !== String(path[i])) return null;
  }
  return path.slice(0, segments.length);
}

export function isPrefix(prefix: Path, path: Path): boolean {
  return prefix.length <= path.length && prefix.every((k, i) => k === path[i]);
}

/** Two paths touch when one is inside (or equal to) the other. */
export function overlapsPath(a: Path, b: Path): boolean {
  return isPrefix(a, b) || isPrefix(b, a);
}

export function samePath(a: Path, b: Path): boolean {
  return a.length === b.length && isPrefix(a, b);
}

/** The value at `path` in `doc`, undefined when absent. */
export function getAt(doc: Doc | undefined, path: Path): Doc | undefined {
  let value: unknown = doc;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<Key, unknown>)[key];
  }
  return value as Doc | undefined;
}

/** Every path where a json1 op has a component (remove, insert, pick, drop, edit). */
export function touchedPaths(op: JSONOp): Path[] {
  const out: Path[] = [];
  walk(op, [], out);
  return out;
}

function walk(op: unknown, base: Path, out: Path[]): void {
  if (op === null || typeof op !== 'object') return;
  if (!Array.isArray(op)) {
    out.push(base);
    return;
  }
  const path = [...base];
  for (const item of op) {
    if (typeof item === 'string' || typeof item === 'number') path.push(item);
    else if (Array.isArray(item)) walk(item, path, out);
    else if (item !== null && typeof item === 'object') out.push([...path]);
  }
}

/** A path as it reads in patterns and messages: `/fields/0/value`. */
export function formatPath(path: Path): string {
  return `/${path.join('/')}`;
}

/** JSON equality for plain documents (what converged replicas compare). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
