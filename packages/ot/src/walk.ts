/**
 * Small read-only helpers over the json1 op tree (`[descent…, component?, [child]…]`), shared by the
 * modules that need to find components by path without going through json1's cursors.
 */
import type { JSONOp, JSONOpComponent, JSONOpList, Path } from './json1';

/** Call `fn` for every component of `op` with the path it sits at (drop-side keys for drops/edits). */
export function eachComponent(op: JSONOp, fn: (c: JSONOpComponent, path: Path) => void): void {
  if (op === null) return;
  walkList(op, [], fn);
}

function walkList(list: JSONOpList, prefix: Path, fn: (c: JSONOpComponent, path: Path) => void): void {
  const path = prefix.slice();
  for (const item of list) {
    if (Array.isArray(item)) walkList(item, path, fn);
    else if (typeof item === 'object' && item !== null) fn(item, path.slice());
    else path.push(item);
  }
}

/** The component sitting exactly at `path` in the op tree, if any. */
export function componentAt(op: JSONOp, path: Path): JSONOpComponent | null {
  if (op === null) return null;
  let list: JSONOpList = op;
  let depth = 0;
  let i = 0;
  while (true) {
    // Consume the inline descent of this list.
    while (i < list.length) {
      const item = list[i];
      if (Array.isArray(item)) break;
      if (typeof item === 'object' && item !== null) {
        if (depth === path.length) return item;
        i++;
        continue;
      }
      if (depth === path.length || item !== path[depth]) return null;
      depth++;
      i++;
    }
    if (i >= list.length) return null;
    // Child lists: find the one whose first key matches the next path key.
    let next: JSONOpList | null = null;
    for (; i < list.length; i++) {
      const child = list[i] as JSONOpList;
      if (child[0] === path[depth]) {
        next = child;
        break;
      }
    }
    if (next === null || depth === path.length) return null;
    list = next;
    i = 0;
  }
}

/** True when the component places or edits content (the drop side of json1's two phases). */
export const hasDropOrEdit = (c: JSONOpComponent): boolean =>
  c.d !== undefined || c.i !== undefined || c.es !== undefined || c.ena !== undefined || c.e !== undefined;

/** True when the component takes content away (pick or remove). */
export const hasPick = (c: JSONOpComponent): boolean => c.p !== undefined || c.r !== undefined;

/** True when the op only edits in place (no pick, remove, drop or insert anywhere). */
export function isEditOnly(op: JSONOp): boolean {
  let editOnly = true;
  eachComponent(op, (c) => {
    if (hasPick(c) || c.d !== undefined || c.i !== undefined) editOnly = false;
  });
  return editOnly;
}

/**
 * Keys that would reach `Object.prototype` through plain property access (json1 uses `obj[key]`):
 * an op descending into one could pollute every object in the process.
 */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const isUnsafeKey = (key: unknown): boolean => typeof key === 'string' && UNSAFE_KEYS.has(key);

interface Scan {
  numberEdit: boolean;
  unsafeKey: boolean;
  /** Some component picks, removes, drops or inserts (so paths differ before and after). */
  structural: boolean;
}

/** What `apply` must check before handing an op to json1. Runs on every apply. */
export function scanOp(op: unknown): Scan {
  const found = { numberEdit: false, unsafeKey: false, structural: false };
  scanList(op, found);
  return found;
}

function scanList(list: unknown, found: Scan): void {
  if (!Array.isArray(list)) return;
  for (const item of list) {
    if (Array.isArray(item)) scanList(item, found);
    else if (typeof item === 'string') {
      if (UNSAFE_KEYS.has(item)) found.unsafeKey = true;
    } else if (typeof item === 'object' && item !== null) {
      const c = item as JSONOpComponent;
      if (c.ena !== undefined) found.numberEdit = true;
      if (c.p !== undefined || c.r !== undefined || c.d !== undefined || c.i !== undefined)
        found.structural = true;
    }
  }
}

/**
 * For an op without structure (paths are the same before and after): does every number edit hit
 * an own number of `doc`? Walks op and document together without allocating.
 */
export function numberEditsHitNumbers(list: unknown, node: unknown): boolean {
  if (!Array.isArray(list)) return true;
  let here = node;
  for (const item of list) {
    if (Array.isArray(item)) {
      if (!numberEditsHitNumbers(item, here)) return false;
    } else if (typeof item === 'string' || typeof item === 'number') {
      const holds =
        here !== null &&
        typeof here === 'object' &&
        Array.isArray(here) === (typeof item === 'number') &&
        Object.hasOwn(here, item);
      here = holds ? (here as Record<string | number, unknown>)[item] : undefined;
    } else if (typeof item === 'object' && item !== null && (item as JSONOpComponent).ena !== undefined) {
      if (typeof here !== 'number') return false;
    }
  }
  return true;
}
