/**
 * Anchors: ranges of text (or whole values) that move with every edit, many at once — what
 * comment threads hang on. Each endpoint moves exactly as a remote caret does
 * (`transformPosition` with `stickAfter` false); a range whose text is all deleted, or whose string
 * is removed or replaced, is detached. A whole-value anchor follows its value through moves and
 * stays on its path when the value there is replaced (a form field keeps its comments when set);
 * it detaches when the path is removed.
 *
 * Cost follows the edit, not the anchors: anchors are grouped by path in a trie, an op only visits
 * the groups under the paths it touches, and a text edit moves a group's sorted offsets in one pass
 * from the first offset it can reach. Offsets are code points.
 */
import type { JSONOp, Key, Path } from './json1';
import { transformPath, transformSortedOffsets } from './presence';
import { componentAt } from './walk';

export interface Anchor {
  path: Path;
  /** Start of a range in the string at `path` (code points). Absent for a whole-value anchor. */
  start?: number;
  /** End of the range (exclusive, greater than `start`). */
  end?: number;
}

interface Point<K> {
  o: number;
  entry: Entry<K>;
}

interface Entry<K> {
  key: K;
  group: Group<K> | undefined;
  start: Point<K> | undefined;
  end: Point<K> | undefined;
  /** Where it was when detached. */
  path: Path;
}

interface Node<K> {
  children: Map<Key, Node<K>>;
  group: Group<K> | undefined;
}

interface Group<K> {
  path: Path;
  /** Range endpoints, ascending by offset once `sorted` (adding many sorts once). */
  points: Point<K>[];
  sorted: boolean;
  wholes: Set<Entry<K>>;
}

const node = <K>(): Node<K> => ({ children: new Map(), group: undefined });

/**
 * The longest object-key prefix of each place `op` acts: a value whose path does not start with
 * one of them is not moved, removed or edited by `op` (list indexes shift, so a prefix stops
 * before the first one).
 */
function touched(list: readonly unknown[], base: Path, stopped: boolean, out: Path[]): void {
  const path = base.slice();
  let stop = stopped;
  for (const item of list) {
    if (Array.isArray(item)) touched(item, path, stop, out);
    else if (typeof item === 'object' && item !== null) out.push(path.slice());
    else if (!stop && typeof item === 'string') path.push(item);
    else stop = true;
  }
}

function samePath(a: Path, b: Path): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

/** First index in ascending `points` whose offset is greater than `offset`. */
function firstAfter(points: { o: number }[], offset: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid].o > offset) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class AnchorSet<K> {
  private readonly root: Node<K> = node();
  private readonly entries = new Map<K, Entry<K>>();

  get size(): number {
    return this.entries.size;
  }

  /** Add (or replace) the anchor under `key`. A range needs `0 <= start < end`. */
  set(key: K, anchor: Anchor): void {
    this.delete(key);
    const entry: Entry<K> = { key, group: undefined, start: undefined, end: undefined, path: anchor.path };
    this.entries.set(key, entry);
    const group = this.groupAt(anchor.path);
    entry.group = group;
    if (anchor.start === undefined || anchor.end === undefined) {
      group.wholes.add(entry);
      return;
    }
    entry.start = { o: anchor.start, entry };
    entry.end = { o: anchor.end, entry };
    group.points.push(entry.start, entry.end);
    group.sorted = false;
  }

  /** The anchor's current place; null once detached; undefined for an unknown key. */
  get(key: K): Anchor | null | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.group === undefined) return null;
    const path = entry.group.path.slice();
    return entry.start === undefined || entry.end === undefined
      ? { path }
      : { path, start: entry.start.o, end: entry.end.o };
  }

  /** The last path of a detached anchor (where its thread was). */
  lastPath(key: K): Path | undefined {
    const entry = this.entries.get(key);
    return entry?.group?.path.slice() ?? entry?.path;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.detach(entry);
    this.entries.delete(key);
  }

  /** Detach every anchor (the document was deleted). */
  detachAll(): void {
    for (const entry of this.entries.values()) this.detach(entry);
  }

  /** Detach one anchor (known to be detached already elsewhere); it keeps its path. */
  detachKey(key: K): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) this.detach(entry);
  }

  /** An independent copy, detached anchors included. */
  copy(): AnchorSet<K> {
    const copy = new AnchorSet<K>();
    for (const key of this.entries.keys()) {
      const anchor = this.get(key);
      if (anchor !== null && anchor !== undefined) copy.set(key, anchor);
      else {
        copy.set(key, { path: this.lastPath(key) ?? [] });
        copy.detachKey(key);
      }
    }
    return copy;
  }

  /** Move every anchor through `op` (a json1 op on the document the anchors are in). */
  apply(op: JSONOp): void {
    if (op === null || this.entries.size === 0) return;
    const prefixes: Path[] = [];
    touched(op, [], false, prefixes);
    const groups = new Set<Group<K>>();
    for (const prefix of prefixes) {
      let at: Node<K> | undefined = this.root;
      for (const key of prefix) {
        at = at.children.get(key);
        if (at === undefined) break;
      }
      if (at !== undefined) this.collect(at, groups);
    }
    // Every affected group moves before any is re-filed: a list insert shifts [l,1] onto [l,2]
    // while [l,2] itself moves on to [l,3].
    const moved: Group<K>[] = [];
    for (const group of groups) if (this.move(group, op)) moved.push(group);
    for (const group of moved) this.refile(group);
  }

  private collect(at: Node<K>, out: Set<Group<K>>): void {
    if (at.group !== undefined) out.add(at.group);
    for (const child of at.children.values()) this.collect(child, out);
  }

  /** Apply `op` to one group; true when its path changed (it must be re-filed). */
  private move(group: Group<K>, op: JSONOp): boolean {
    const next = transformPath(group.path, op);
    if (next === null || next.replaced) {
      // Ranges lose their text either way; whole values stay when replaced where they stand.
      const gone = new Set<Entry<K>>();
      for (const point of group.points) gone.add(point.entry);
      const c = next === null ? componentAt(op, group.path) : null;
      const inPlace = next !== null || (c?.r !== undefined && c.i !== undefined);
      if (!inPlace) for (const entry of group.wholes) gone.add(entry);
      this.drop(group, gone);
      if (next === null) return false;
    } else if (next.edit !== undefined && group.points.length > 0) {
      const edit = next.edit;
      if (!group.sorted) {
        group.points.sort((a, b) => a.o - b.o);
        group.sorted = true;
      }
      const from = firstAfter(group.points, typeof edit[0] === 'number' ? edit[0] : 0);
      if (from < group.points.length) {
        transformSortedOffsets(group.points, from, edit);
        // A range whose every character was deleted is detached.
        if (edit.some((c) => typeof c === 'object')) {
          const gone = new Set<Entry<K>>();
          for (let j = from; j < group.points.length; j++) {
            const { entry } = group.points[j];
            if (entry.end === group.points[j] && entry.start?.o === entry.end.o) gone.add(entry);
          }
          if (gone.size > 0) this.drop(group, gone);
        }
      }
    }
    if (samePath(next.path, group.path)) return false;
    this.unfile(group);
    group.path = next.path;
    return true;
  }

  private groupAt(path: Path): Group<K> {
    let at = this.root;
    for (const key of path) {
      let child = at.children.get(key);
      if (child === undefined) {
        child = node();
        at.children.set(key, child);
      }
      at = child;
    }
    at.group ??= { path: path.slice(), points: [], sorted: true, wholes: new Set() };
    return at.group;
  }

  private nodeAt(path: Path): Node<K> | undefined {
    let at: Node<K> | undefined = this.root;
    for (const key of path) {
      at = at.children.get(key);
      if (at === undefined) return undefined;
    }
    return at;
  }

  private unfile(group: Group<K>): void {
    const at = this.nodeAt(group.path);
    if (at?.group === group) at.group = undefined;
  }

  /** File a group under its (new) path, merging into a group already there. */
  private refile(group: Group<K>): void {
    if (group.points.length === 0 && group.wholes.size === 0) return;
    const target = this.groupAt(group.path);
    if (target === group) return;
    if (target.points.length === 0 && target.wholes.size === 0) {
      this.nodeAt(group.path)!.group = group;
      return;
    }
    for (const entry of group.wholes) {
      entry.group = target;
      target.wholes.add(entry);
    }
    for (const point of group.points) {
      point.entry.group = target;
      target.points.push(point);
    }
    target.sorted = false;
  }

  private detach(entry: Entry<K>): void {
    if (entry.group !== undefined) this.drop(entry.group, new Set([entry]));
  }

  /** Detach `gone` (entries of `group`) in one pass over its points. */
  private drop(group: Group<K>, gone: Set<Entry<K>>): void {
    if (gone.size === 0) return;
    for (const entry of gone) {
      entry.path = group.path.slice();
      entry.group = undefined;
      entry.start = undefined;
      entry.end = undefined;
      group.wholes.delete(entry);
    }
    group.points = group.points.filter((p) => !gone.has(p.entry));
  }
}
