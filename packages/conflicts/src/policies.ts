/** Per-path conflict policies: config validation (once, at start-up) and rule lookup (pure). */
import type { Path } from '@tandem/ot';
import { ErrorCode, err, ok, type Result, TandemError, unwrap } from '@tandem/protocol';
import { matchField, type Pattern, parsePattern } from './paths';
import type { PolicyName } from './types';

/**
 * `{ [collection]: { [pattern]: policy } }`. Collection `'*'` applies to every collection after its
 * own rules. Within a collection the first matching pattern (in object order) wins. Unmatched
 * paths use `merge`.
 *
 * @example { notes: { '/title': 'last-writer-wins', '/fields/*\/value': 'manual', '/body/**': 'merge' } }
 */
export type PolicyConfig = Readonly<Record<string, Readonly<Record<string, PolicyName>>>>;

export interface PolicyRule {
  collection: string;
  pattern: Pattern;
  policy: PolicyName;
}

/** Compiled rules, by collection (`'*'` included). */
export interface Policies {
  readonly byCollection: ReadonlyMap<string, readonly PolicyRule[]>;
}

/** What applies to one path. */
export interface PolicyMatch {
  policy: PolicyName;
  /** The matching pattern, null for the default. */
  rule: string | null;
  /** The field the rule selects (the matched prefix of the path; the path itself by default). */
  field: Path;
}

export const POLICY_NAMES: readonly PolicyName[] = ['merge', 'last-writer-wins', 'reject', 'manual'];

function invalid(message: string, details: Record<string, unknown>): Result<never> {
  return err(new TandemError(ErrorCode.INVALID_CONFIG, `conflict policies: ${message}`, details));
}

/** Validate and compile a policy config; INVALID_CONFIG naming the faulty entry. */
export function tryCompilePolicies(
  config: PolicyConfig | undefined,
  isReserved: (collection: string) => boolean = () => false,
): Result<Policies> {
  const byCollection = new Map<string, PolicyRule[]>();
  if (config === undefined) return ok({ byCollection });
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    return invalid('expected an object { [collection]: { [pattern]: policy } }', {});
  }
  for (const [collection, rules] of Object.entries(config)) {
    if (collection === '') return invalid('collection name is empty', {});
    if (isReserved(collection)) {
      return invalid(`"${collection}" is a reserved collection and takes no policies`, { collection });
    }
    if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) {
      return invalid(`rules of "${collection}" must be an object { [pattern]: policy }`, { collection });
    }
    const compiled: PolicyRule[] = [];
    for (const [source, policy] of Object.entries(rules)) {
      const pattern = parsePattern(source);
      if (typeof pattern === 'string') {
        return invalid(`bad pattern "${source}" in "${collection}": ${pattern}`, {
          collection,
          pattern: source,
        });
      }
      if (!POLICY_NAMES.includes(policy)) {
        return invalid(
          `unknown policy "${String(policy)}" for "${source}" in "${collection}" (expected ${POLICY_NAMES.join(' | ')})`,
          { collection, pattern: source },
        );
      }
      compiled.push({ collection, pattern, policy });
    }
    byCollection.set(collection, compiled);
  }
  return ok({ byCollection });
}

/** The throwing form of `tryCompilePolicies`. */
export function compilePolicies(
  config: PolicyConfig | undefined,
  isReserved?: (c: string) => boolean,
): Policies {
  return unwrap(tryCompilePolicies(config, isReserved));
}

/** The policy for a conflict at `path` in `collection`. */
export function policyFor(policies: Policies, collection: string, path: Path): PolicyMatch {
  for (const rules of [policies.byCollection.get(collection), policies.byCollection.get('*')]) {
    if (rules === undefined) continue;
    for (const rule of rules) {
      const field = matchField(rule.pattern, path);
      if (field !== null) return { policy: rule.policy, rule: rule.pattern.source, field };
    }
  }
  return { policy: 'merge', rule: null, field: path };
}

/** True when some rule for `collection` may need the version an op was written against. */
export function needsBase(policies: Policies, collection: string): boolean {
  const uses = (rules: readonly PolicyRule[] | undefined) =>
    rules?.some((r) => r.policy === 'last-writer-wins' || r.policy === 'manual') ?? false;
  return uses(policies.byCollection.get(collection)) || uses(policies.byCollection.get('*'));
}
