/**
 * Pure replay: apply stored ops to a snapshot with rope-backed strings (@tandem/ot `applyRope`), so
 * long texts with thousands of one-character edits replay in linear time instead of copying the
 * whole string per op.
 */
import { applyRope, type Doc, deserialize, type JSONOp, type RopeDoc, serialize, type } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import type { StoredOp, VersionedSnapshot } from './types';

/** A snapshot being replayed: ropes inside, mutated in place. Serialize with `finish`. */
export interface ReplayState {
  v: number;
  type: string | null;
  data: RopeDoc | undefined;
}

export function startReplay(base: VersionedSnapshot | undefined): ReplayState {
  if (base === undefined) return { v: 0, type: null, data: undefined };
  return { v: base.v, type: base.type, data: deserialize(base.data as Doc | undefined) };
}

/** Thrown when the op log has a hole (ops deleted by compaction, or missing). */
export function missingOps(
  collection: string,
  id: string,
  expected: number,
  got: number | undefined,
): TandemError {
  return new TandemError(
    ErrorCode.NOT_FOUND,
    `ops of ${collection}/${id} from version ${expected} are not stored (compacted?)`,
    { collection, id, version: expected, found: got ?? null, reason: 'compacted' },
  );
}

/** Apply one stored op. Throws INVALID_OP when it does not apply (a corrupted log). */
export function step(state: ReplayState, op: StoredOp): void {
  if (op.create) {
    if (op.create.type !== type.uri && op.create.type !== type.name) {
      throw new TandemError(
        ErrorCode.INVALID_OP,
        `history replays json1 documents only, not ${op.create.type}`,
        {
          reason: 'type',
        },
      );
    }
    state.type = type.uri;
    state.data = deserialize(op.create.data as Doc | undefined);
  } else if (op.del) {
    state.type = null;
    state.data = undefined;
  } else if (op.op !== undefined) {
    if (state.type === null) {
      throw new TandemError(
        ErrorCode.INVALID_OP,
        `op at version ${op.v} edits a document that does not exist`,
        {
          reason: 'no document',
        },
      );
    }
    state.data = applyRope(state.data, op.op as JSONOp);
  }
  state.v = op.v + 1;
}

export function finish(state: ReplayState): VersionedSnapshot {
  return { v: state.v, type: state.type, data: serialize(state.data) };
}
