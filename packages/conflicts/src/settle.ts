/**
 * Policies applied to collisions, pure: which collisions a policy handles, whether the op is
 * refused, and the fixup op that makes last-writer-wins and manual fields hold the value they
 * should. A fixup is an ordinary op committed with the incoming op, so every replica converges.
 */
import { apply, compose, type Doc, insert, type JSONOp, type Path, remove, replace } from '@tandem/ot';
import type { Collision } from './classify';
import { deepEqual, formatPath, getAt } from './paths';
import { type Policies, type PolicyMatch, policyFor } from './policies';

export interface Decision {
  collision: Collision;
  match: PolicyMatch;
}

export interface Plan {
  decisions: Decision[];
  /** The first collision under a `reject` rule, if any: the op is refused. */
  rejected: Decision | undefined;
  /** True when a last-writer-wins or manual field needs the document the op was written against. */
  needsBase: boolean;
}

/** The rule for a collision: the incoming op's path decides; else the other op's path. */
function matchCollision(policies: Policies, collection: string, c: Collision): PolicyMatch {
  const byOp = policyFor(policies, collection, c.path);
  if (byOp.rule !== null) return byOp;
  const byOther = policyFor(policies, collection, c.otherPath);
  return byOther.rule !== null ? byOther : byOp;
}

export function plan(policies: Policies, collection: string, collisions: readonly Collision[]): Plan {
  const decisions = collisions.map((collision) => ({
    collision,
    match: matchCollision(policies, collection, collision),
  }));
  return {
    decisions,
    rejected: decisions.find((d) => d.match.policy === 'reject'),
    needsBase: decisions.some((d) => d.match.policy === 'last-writer-wins' || d.match.policy === 'manual'),
  };
}

/** What a last-writer-wins or manual field ended as. */
export interface FieldOutcome {
  field: Path;
  /** The field before the incoming op (what the concurrent ops left). */
  committed: Doc | undefined;
  /** The field as the incoming op's author meant it (their op on the version they saw). */
  incoming: Doc | undefined;
  /** False when the field could not be set (its parent is gone): OT's outcome stands. */
  applied: boolean;
}

export interface Settlement {
  /** Compose onto the transformed op (ShareDB `$fixup`); null when nothing changes. */
  fixup: JSONOp;
  /** By `formatPath(field)`. */
  fields: Map<string, FieldOutcome>;
}

export interface SettleInput {
  /** The document before the incoming op (ShareDB's pre-apply snapshot data). */
  snapshot: Doc | undefined;
  /** The incoming op transformed over the concurrent ops. */
  transformed: JSONOp;
  /** The incoming op as submitted. */
  original: JSONOp;
  /** The document at the op's base version (needed when `plan(...).needsBase`). */
  base: Doc | undefined;
  decisions: readonly Decision[];
}

function parentAccepts(doc: Doc | undefined, field: Path): boolean {
  if (field.length === 0) return true;
  const parent = getAt(doc, field.slice(0, -1));
  const key = field[field.length - 1];
  if (Array.isArray(parent)) return typeof key === 'number' && key <= parent.length;
  return typeof parent === 'object' && parent !== null && typeof key === 'string';
}

/**
 * The op that sets `field` of `doc` to `target` (undefined: remove it): null when it already
 * holds that, undefined when impossible (its parent is gone).
 */
export function setField(doc: Doc | undefined, field: Path, target: Doc | undefined): JSONOp | undefined {
  const current = getAt(doc, field);
  if (deepEqual(current, target)) return null;
  if (target === undefined) return remove(field, current as Doc);
  if (current === undefined) return parentAccepts(doc, field) ? insert(field, target) : undefined;
  return replace(field, target, current);
}

/**
 * last-writer-wins: the field becomes what the later op's author meant (their op applied to the
 * version they saw). manual: the field keeps its committed value; the incoming value is recorded.
 */
export function settle(input: SettleInput): Settlement {
  const fields = new Map<string, FieldOutcome>();
  let after = apply(input.snapshot, input.transformed);
  let intended: Doc | undefined;
  let fixup: JSONOp = null;
  for (const { match } of input.decisions) {
    if (match.policy !== 'last-writer-wins' && match.policy !== 'manual') continue;
    const key = formatPath(match.field);
    if (fields.has(key)) continue;
    intended ??= apply(input.base, input.original);
    const committed = getAt(input.snapshot, match.field);
    const incoming = getAt(intended, match.field);
    const target = match.policy === 'last-writer-wins' ? incoming : committed;
    const op = setField(after, match.field, target);
    fields.set(key, { field: match.field, committed, incoming, applied: op !== undefined });
    if (op === undefined || op === null) continue;
    after = apply(after, op);
    fixup = compose(fixup, op);
  }
  return { fixup, fields };
}
