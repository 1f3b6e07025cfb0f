/** Calling host hooks: absent hooks are skipped; anything a hook throws becomes a TandemError. */
import { type ErrorCode, TandemError } from '@tandem/protocol';
import type { TandemHooks } from './hooks';
import type { Logger } from './logger';

type HookPayload<K extends keyof TandemHooks> = Parameters<NonNullable<TandemHooks[K]>>[0];
type HookResult<K extends keyof TandemHooks> = Awaited<ReturnType<NonNullable<TandemHooks[K]>>>;

export class HookRunner {
  constructor(
    private readonly hooks: TandemHooks,
    private readonly logger: Logger,
  ) {}

  has(name: keyof TandemHooks): boolean {
    return typeof this.hooks[name] === 'function';
  }

  /** Run a hook whose failure is the caller's answer (authenticate, authorize, validate). */
  async call<K extends keyof TandemHooks>(
    name: K,
    payload: HookPayload<K>,
    code: ErrorCode,
  ): Promise<HookResult<K>> {
    const hook = this.hooks[name] as
      | ((p: HookPayload<K>) => HookResult<K> | Promise<HookResult<K>>)
      | undefined;
    if (hook === undefined) return undefined as HookResult<K>;
    try {
      return await hook(payload);
    } catch (error) {
      throw TandemError.from(error, code);
    }
  }

  /** Run a notification hook (onConnect, onCommit, …): failures are logged, never propagated. */
  notify<K extends keyof TandemHooks>(name: K, payload: HookPayload<K>): void {
    const hook = this.hooks[name] as ((p: HookPayload<K>) => unknown) | undefined;
    if (hook === undefined) return;
    Promise.resolve()
      .then(() => hook(payload))
      .catch((error: unknown) => {
        this.logger.error(`hook ${name} failed`, {
          error: error instanceof Error ? error.message : String(error),
        });
      });
  }
}
