/**
 * The demo app: an ordinary Express app that embeds Tandem with `attach`, signs its demo users in
 * with real signed tokens, and serves the page Vite built (web/ -> dist/).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { comments } from '@tandem/comments';
import {
  type AttachedTandem,
  attach,
  createTokens,
  roleAuthorize,
  type Tokens,
  tokenAuth,
} from '@tandem/server';
import { healthHandler, prometheusHandler, readyHandler } from '@tandem/server/express';
import express from 'express';
import { COLLECTIONS, DEMO_USERS } from '../shared/model';
import { FORM_POLICIES, FORM_SCHEMA, formWorkflow, NOTE_SCHEMA } from './forms';
import { seed } from './seed';

export interface DemoOptions {
  /** @default 3000 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Storage URL. @default the SQLite default of @tandem/storage (./data/tandem.db) */
  storage?: string;
  /** The built page. @default ../dist (what `vite build` writes) */
  pageDir?: string;
  /** Token signing secret (≥ 32 bytes). @default a random one per start (tokens end with the process) */
  secret?: string;
  /** Heartbeat (and so presence round-trip time) interval. @default the server's 15 s */
  heartbeatMs?: number;
}

export interface Demo {
  url: string;
  tandem: AttachedTandem;
  /** The token issuer, for tests that sign someone in without the page. */
  tokens: Tokens;
  close(): Promise<void>;
}

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const tokens = createTokens({
    keys: [{ kid: 'demo', secret: options.secret ?? randomBytes(32).toString('hex') }],
    issuer: 'tandem-demo',
  });
  const verify = tokenAuth(tokens);
  const app = express();
  const tandem = await attach(app, {
    storage: options.storage,
    heartbeatMs: options.heartbeatMs,
    hooks: {
      // A verified token, plus the colour the demo gives each of its users.
      authenticate: async (payload) => {
        const principal = await verify(payload);
        const colour = DEMO_USERS.find((u) => u.id === principal.id)?.colour;
        return colour === undefined ? principal : { ...principal, colour };
      },
      // viewer < commenter < editor < owner, from the token's grants; approving is for owners.
      authorize: roleAuthorize({ pathRules: [{ collection: 'forms', path: '/approved', role: 'owner' }] }),
      validate: formWorkflow,
    },
    conflicts: { policies: { forms: FORM_POLICIES } },
    // Threads anchored in the text, replies, reactions, mentions and notifications (commenters up).
    extensions: [comments()],
    validation: { collections: [...COLLECTIONS], schemas: { forms: FORM_SCHEMA, notes: NOTE_SCHEMA } },
  });
  await seed(tandem.tandem);

  // Sign-in: a real app checks a password or an SSO session here before issuing the token.
  app.post('/api/login', express.json(), async (request, response) => {
    const user = DEMO_USERS.find((u) => u.id === request.body?.user);
    if (user === undefined) {
      response.status(404).json({ code: 'NOT_FOUND', message: 'no such demo user' });
      return;
    }
    const token = await tokens.issue({
      sub: user.id,
      name: user.name,
      grants: Object.fromEntries(COLLECTIONS.map((c) => [`${c}/*`, user.role])),
    });
    response.json({ token, user });
  });
  // Operations endpoints a production host mounts the same way (behind its own access control).
  app.get('/metrics', prometheusHandler(tandem.tandem));
  app.get('/health', healthHandler(tandem.tandem));
  app.get('/ready', readyHandler(tandem.tandem));
  app.use(express.static(options.pageDir ?? fileURLToPath(new URL('../dist', import.meta.url))));

  const port = options.port ?? 3000;
  const host = options.host ?? '127.0.0.1';
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://${host}:${actualPort}/`,
    tandem,
    tokens,
    async close() {
      await tandem.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
