/**
 * Several handlers per hook (Fastify's per-hook arrays): the host may give a list of hook objects,
 * and each extension may add its own. They compose into one `TandemHooks`, so the rest of the
 * server calls each hook once:
 * - `authenticate`: handlers in order; the first that returns a principal decides.
 * - `authorize`: every handler must return true (the first refusal stops the rest).
 * - `validate` and the notifications: every handler, in order; a throw stops `validate`.
 */
import type { HookName, TandemHooks } from './hooks';

type AnyHook = (payload: never) => unknown;

export function composeHooks(list: readonly TandemHooks[]): TandemHooks {
  const byName = new Map<HookName, AnyHook[]>();
  for (const hooks of list)
    for (const [name, fn] of Object.entries(hooks) as [HookName, AnyHook | undefined][])
      if (fn !== undefined) byName.set(name, [...(byName.get(name) ?? []), fn]);
  const composed: Record<string, AnyHook> = {};
  for (const [name, fns] of byName) {
    if (fns.length === 1) composed[name] = fns[0];
    else if (name === 'authenticate') composed[name] = firstAnswer(fns);
    else if (name === 'authorize') composed[name] = allTrue(fns);
    else composed[name] = inOrder(fns);
  }
  return composed as TandemHooks;
}

function firstAnswer(fns: readonly AnyHook[]): AnyHook {
  return async (payload) => {
    for (const fn of fns) {
      const answer = await fn(payload);
      if (answer !== undefined) return answer;
    }
    return undefined;
  };
}

function allTrue(fns: readonly AnyHook[]): AnyHook {
  return async (payload) => {
    for (const fn of fns) if ((await fn(payload)) !== true) return false;
    return true;
  };
}

function inOrder(fns: readonly AnyHook[]): AnyHook {
  return async (payload) => {
    for (const fn of fns) await fn(payload);
  };
}
