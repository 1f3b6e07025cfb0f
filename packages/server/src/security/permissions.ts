/**
 * The default role model, as a ready `authorize` hook: per-document roles (viewer < commenter <
 * editor < owner), what each may do, and path rules that reserve subtrees (e.g. `/settings/**`) for
 * a higher role. The role is looked up on every request, so a role changed at run time applies to
 * live sockets from their next request; `refreshAccess` (live-access.ts) re-checks subscriptions
 * already open.
 */
import type { AccessAction, AuthorizePayload, Principal } from '../hooks';
import type { DocumentRole } from './tokens';

export type Path = (string | number)[];

const RANK: Record<DocumentRole, number> = { viewer: 0, commenter: 1, editor: 2, owner: 3 };

/** The least role each action needs. */
export const ACTION_ROLE: Readonly<Record<AccessAction, DocumentRole>> = {
  read: 'viewer',
  history: 'viewer',
  presence: 'viewer',
  comment: 'commenter',
  react: 'commenter',
  create: 'editor',
  write: 'editor',
  delete: 'owner',
  admin: 'owner',
};

export interface PathRule {
  /** Slash-separated glob over document paths: `*` is one key, a trailing `**` any depth. */
  path: string;
  /** Least role that may change anything under it. */
  role: DocumentRole;
  /** Only in this collection. @default every collection */
  collection?: string;
}

export interface RoleModelOptions {
  /**
   * The principal's role on a document, looked up per request (read it from your database to
   * change roles at run time). @default from the token: `grants['collection/id']`, else
   * `grants['collection/*']`; a principal with the global role `admin` is owner everywhere
   */
  roleOf?(
    principal: Principal,
    collection: string,
    id: string,
  ): DocumentRole | undefined | Promise<DocumentRole | undefined>;
  /** Subtrees reserved for a higher role than `write` needs. @default none */
  pathRules?: readonly PathRule[];
}

export function grantedRole(principal: Principal, collection: string, id: string): DocumentRole | undefined {
  if (Array.isArray(principal.roles) && principal.roles.includes('admin')) return 'owner';
  const grants = principal.grants as Record<string, DocumentRole> | undefined;
  if (typeof grants !== 'object' || grants === null) return undefined;
  return grants[`${collection}/${id}`] ?? grants[`${collection}/*`];
}

/** Every component of a json1 op with the path it sits at (descending through branches). */
export function opComponents(op: unknown): { path: Path; component: Record<string, unknown> }[] {
  const out: { path: Path; component: Record<string, unknown> }[] = [];
  const walk = (items: readonly unknown[], base: Path) => {
    const path = [...base];
    for (const item of items) {
      if (typeof item === 'string' || typeof item === 'number') path.push(item);
      else if (Array.isArray(item)) walk(item, path);
      else if (typeof item === 'object' && item !== null)
        out.push({ path: [...path], component: item as Record<string, unknown> });
    }
  };
  if (Array.isArray(op)) walk(op, []);
  return out;
}

/** Every path a json1 op changes (where its components sit). */
export function opPaths(op: unknown): Path[] {
  return opComponents(op).map((c) => c.path);
}

function compile(glob: string): string[] {
  return glob.split('/').filter((segment) => segment !== '');
}

/**
 * Whether changing `path` changes something under the rule: the two agree on their common prefix
 * (an edit above the subtree replaces it; one inside it is in it).
 */
function touches(rule: readonly string[], path: Path): boolean {
  for (let i = 0; i < Math.min(rule.length, path.length); i++) {
    if (rule[i] === '**') return true;
    if (rule[i] !== '*' && rule[i] !== String(path[i])) return false;
  }
  return true;
}

/** The least role a write of `op` needs under `rules`. */
function roleForOp(
  rules: readonly { segments: string[]; role: DocumentRole; collection?: string }[],
  collection: string,
  op: unknown,
): DocumentRole {
  let needed: DocumentRole = 'editor';
  const inner = (op as { op?: unknown } | undefined)?.op;
  if (inner === undefined) return needed;
  const paths = opPaths(inner);
  for (const rule of rules) {
    if (rule.collection !== undefined && rule.collection !== collection) continue;
    if (RANK[rule.role] > RANK[needed] && paths.some((p) => touches(rule.segments, p))) needed = rule.role;
  }
  return needed;
}

/** `hooks: { authorize: roleAuthorize({ pathRules: [{ path: '/settings/**', role: 'owner' }] }) }` */
export function roleAuthorize(
  options: RoleModelOptions = {},
): (payload: AuthorizePayload) => Promise<boolean> {
  const roleOf = options.roleOf ?? grantedRole;
  const rules = (options.pathRules ?? []).map((r) => ({ ...r, segments: compile(r.path) }));
  return async ({ principal, action, collection, id, op }) => {
    const role = await roleOf(principal, collection, id);
    if (role === undefined || !(role in RANK)) return false;
    const needed = action === 'write' ? roleForOp(rules, collection, op) : ACTION_ROLE[action];
    return needed !== undefined && RANK[role] >= RANK[needed];
  };
}
