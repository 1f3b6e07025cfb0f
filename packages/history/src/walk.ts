/** Read-only walk over a json1 op tree (`[key…, component?, [child]…]`), for summaries and blame. */
import type { JSONOp, JSONOpComponent, Path } from '@tandem/ot';

type OpList = unknown[];

/** Call `fn` with every component of `op` and the path it sits at. */
export function eachComponent(op: JSONOp, fn: (component: JSONOpComponent, path: Path) => void): void {
  if (op === null || op === undefined) return;
  walk(op as OpList, [], fn);
}

function walk(list: OpList, prefix: Path, fn: (component: JSONOpComponent, path: Path) => void): void {
  const path = prefix.slice();
  for (const item of list) {
    if (Array.isArray(item)) walk(item, path, fn);
    else if (typeof item === 'object' && item !== null) fn(item as JSONOpComponent, path.slice());
    else path.push(item as string | number);
  }
}

/** True when the component moves, removes, inserts or replaces something (not an in-place edit). */
export function isStructural(c: JSONOpComponent): boolean {
  return c.p !== undefined || c.r !== undefined || c.d !== undefined || c.i !== undefined;
}

export function samePath(a: Path, b: Path): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

/** Value at `path` in a plain JSON (or rope) document, or undefined. */
export function valueAt(doc: unknown, path: Path): unknown {
  let node = doc;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}
