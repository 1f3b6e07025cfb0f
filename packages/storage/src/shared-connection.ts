import { ErrorCode, TandemError } from '@tandem/protocol';

/**
 * A connection that several adapters share (a ShareDB DB and a MilestoneDB on one SQLite file or one
 * PostgreSQL pool), reference-counted: whoever opens it holds the first reference, each adapter
 * retains its own, and the last release closes it.
 */
export abstract class SharedConnection {
  private refs = 1;

  /** Names the store in errors: "<store> connection is closed". */
  protected abstract readonly store: string;

  /** Close the underlying connection (the last user is gone). */
  protected abstract end(): Promise<void> | undefined;

  get open(): boolean {
    return this.refs > 0;
  }

  /** Another adapter now shares this connection. */
  retain(): this {
    this.assertOpen();
    this.refs++;
    return this;
  }

  /** One user is done; the last one closes the connection (resolves once it is closed). */
  release(): Promise<void> | undefined {
    if (this.refs === 0) return undefined;
    this.refs--;
    return this.refs > 0 ? undefined : this.end();
  }

  protected assertOpen(): void {
    if (this.refs === 0)
      throw new TandemError(ErrorCode.STORAGE_UNAVAILABLE, `${this.store} connection is closed`);
  }
}
