/** Who this tab is signed in as (sessionStorage: one identity per tab, kept across a reload). */
import { DEMO_USERS, type DemoUser } from '../shared/model';

const USER = 'tandem-demo-user';
const TAB = 'tandem-demo-tab';

export function rememberedUser(): DemoUser | undefined {
  const id = new URLSearchParams(location.search).get('as') ?? sessionStorage.getItem(USER);
  return DEMO_USERS.find((u) => u.id === id);
}

export function rememberUser(user: DemoUser): void {
  sessionStorage.setItem(USER, user.id);
}

export function forgetUser(): void {
  sessionStorage.removeItem(USER);
  history.replaceState(null, '', location.pathname + location.hash);
}

/** This tab's id, for its offline queue (two tabs must not share one). */
export function tabId(): string {
  let id = sessionStorage.getItem(TAB);
  if (id === null) {
    id = crypto.randomUUID();
    sessionStorage.setItem(TAB, id);
  }
  return id;
}

/** A signed token from the host's sign-in route. */
export async function fetchToken(user: DemoUser): Promise<string> {
  const response = await fetch('/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: user.id }),
  });
  if (!response.ok) throw new Error(`sign-in failed: HTTP ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}
