/** Checking @tandem/conflicts' options at creation (INVALID_CONFIG naming the option). */
import {
  clockOption,
  invalidOption,
  knownKeys,
  plainObject,
  positiveIntegers,
  type TandemError,
} from '@tandem/protocol';
import type { ConflictsOptions } from './install';
import { resolveLockOptions } from './lock-manager';
import { tryCompilePolicies } from './policies';
import { isReservedCollection } from './reserved';

const OPTION_NAMES = new Set(['policies', 'locks', 'onConflict', 'logger', 'versionCache', 'now']);

/** `value` as ConflictsOptions, or INVALID_CONFIG naming `<prefix>.<key>`. */
export function checkConflictsOptions(value: unknown, prefix = 'conflicts'): ConflictsOptions {
  if (value === undefined) return {};
  const options = plainObject(prefix, value);
  knownKeys(prefix, options, OPTION_NAMES);
  const policies = tryCompilePolicies(options.policies as never, isReservedCollection);
  if (!policies.ok) throw invalidOption(`${prefix}.policies`, policies.error.message);
  if (options.locks !== undefined) {
    try {
      resolveLockOptions(plainObject(`${prefix}.locks`, options.locks));
    } catch (error) {
      const details = (error as TandemError).details as { option?: string; reason?: string } | undefined;
      if (details?.option === undefined) throw error;
      throw invalidOption(`${prefix}.${details.option}`, details.reason ?? 'invalid');
    }
  }
  if (options.versionCache !== undefined) {
    const cache = plainObject(`${prefix}.versionCache`, options.versionCache);
    knownKeys(`${prefix}.versionCache`, cache, new Set(['versions', 'documents']));
    positiveIntegers(`${prefix}.versionCache`, cache, ['versions', 'documents']);
  }
  for (const hook of ['onConflict'] as const)
    if (options[hook] !== undefined && typeof options[hook] !== 'function')
      throw invalidOption(`${prefix}.${hook}`, 'must be a function');
  clockOption(prefix, options);
  return options as ConflictsOptions;
}
