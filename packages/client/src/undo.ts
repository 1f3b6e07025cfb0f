/**
 * Per-user undo/redo as a client-side transformed stack: each local op pushes its inverse; every
 * remote op is transformed into the stack, so undo reverts only this user's edits, at their
 * current positions, whatever others did since.
 */
import { invertWithDoc, type JSONOp, transform } from '@tandem/ot';

export interface UndoHost {
  data(): unknown;
  submit(op: JSONOp, meta: { undo: true }): Promise<void>;
}

/** Keep memory bounded: a long session must not grow without limit. */
const MAX_DEPTH = 500;

export class UndoStack {
  private undos: JSONOp[] = [];
  private redos: JSONOp[] = [];
  private replaying: 'undo' | 'redo' | undefined;

  constructor(private readonly host: UndoHost) {}

  get canUndo(): boolean {
    return this.undos.length > 0;
  }

  get canRedo(): boolean {
    return this.redos.length > 0;
  }

  /** Before a local op applies (`before` is the data it applies to). */
  local(op: JSONOp, before: unknown): void {
    const inverse = invertWithDoc(op, before as never);
    if (this.replaying === 'undo') this.redos.push(inverse);
    else {
      this.undos.push(inverse);
      if (this.undos.length > MAX_DEPTH) this.undos.shift();
      if (this.replaying === undefined) this.redos = [];
    }
  }

  /** After a remote op applied: move both stacks past it. */
  remote(op: JSONOp): void {
    this.undos = transformStack(this.undos, op);
    this.redos = transformStack(this.redos, op);
  }

  undo(): Promise<boolean> {
    return this.replay('undo', this.undos);
  }

  redo(): Promise<boolean> {
    return this.replay('redo', this.redos);
  }

  private async replay(kind: 'undo' | 'redo', stack: JSONOp[]): Promise<boolean> {
    const op = stack.pop();
    if (op === undefined) return false;
    // The local op of the replay is recorded synchronously inside submit; later edits are new.
    this.replaying = kind;
    let acknowledged: Promise<void>;
    try {
      acknowledged = this.host.submit(op, { undo: true });
    } finally {
      this.replaying = undefined;
    }
    await acknowledged;
    return true;
  }
}

/**
 * Stack entries apply at successively later states (top = latest). Walk from the top down,
 * transforming each entry over the remote op and the remote op over each entry.
 */
function transformStack(stack: JSONOp[], remote: JSONOp): JSONOp[] {
  const out = new Array<JSONOp>(stack.length);
  let r = remote;
  for (let i = stack.length - 1; i >= 0; i--) {
    const entry = stack[i];
    out[i] = transform(entry, r, 'left');
    r = transform(r, entry, 'right');
  }
  return out.filter((op) => op !== null);
}
