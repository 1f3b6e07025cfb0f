/**
 * Per-user undo/redo on a document: @tandem/ot's transformed stack (each local op pushes its
 * inverse; every remote op is transformed into the stack), so undo reverts only this user's edits,
 * at their current positions, whatever others did since.
 */
import {
  applyRemote,
  createUndoStack,
  type JSONOp,
  recordEdit,
  redo,
  type UndoStack as Stack,
  type StackStep,
  undo,
} from '@tandem/ot';

export interface UndoHost {
  data(): unknown;
  submit(op: JSONOp, meta: { undo: true }): Promise<void>;
}

/** Keep memory bounded: a long session must not grow without limit. */
const MAX_DEPTH = 500;

export class UndoStack {
  private stack: Stack = createUndoStack(MAX_DEPTH);
  /** While an undo or redo is submitted: its own local op is not a new edit. */
  private replaying = false;

  constructor(private readonly host: UndoHost) {}

  get canUndo(): boolean {
    return this.stack.undo.length > 0;
  }

  get canRedo(): boolean {
    return this.stack.redo.length > 0;
  }

  /** Before a local op applies (`before` is the data it applies to). */
  local(op: JSONOp, before: unknown): void {
    if (!this.replaying) this.stack = recordEdit(this.stack, op, before as never);
  }

  /** After a remote op applied: move both stacks past it. */
  remote(op: JSONOp): void {
    this.stack = applyRemote(this.stack, op);
  }

  undo(): Promise<boolean> {
    return this.replay(undo);
  }

  redo(): Promise<boolean> {
    return this.replay(redo);
  }

  private async replay(step: (stack: Stack, doc: never) => StackStep | null): Promise<boolean> {
    const next = step(this.stack, this.host.data() as never);
    if (next === null) return false;
    this.stack = next.stack;
    // The replay's local op is recorded synchronously inside submit; later edits are new.
    this.replaying = true;
    let acknowledged: Promise<void>;
    try {
      acknowledged = this.host.submit(next.op, { undo: true });
    } finally {
      this.replaying = false;
    }
    await acknowledged;
    return true;
  }
}
