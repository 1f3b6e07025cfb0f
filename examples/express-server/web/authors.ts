/** Names and colours of authors (history, blame): the demo users', or grey for anyone else. */
import { DEMO_USERS } from '../shared/model';

export const authorColour = (id: string | undefined): string =>
  DEMO_USERS.find((u) => u.id === id)?.colour ?? '#6b7280';

export const time = (ts: number): string => new Date(ts).toLocaleTimeString();
