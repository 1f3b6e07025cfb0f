/**
 * The comments webhooks against a real local receiver, verified as a receiver would:
 * `comment.created` (a thread and a reply), `mention.created` (one per user mentioned),
 * `comment.resolved` (when a thread becomes resolved, not when it already was).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { comments as threadsOf } from '@tandem/client/comments';
import { comments } from '@tandem/comments';
import { attach, verifyWebhook, type WebhookEvent } from '@tandem/server';
import { describe, expect, it } from 'vitest';
import { client, until } from '../../server/test/helpers';

const SECRET = 'whsec-comments-0123456789abcdef';

describe('comment webhooks', () => {
  it('comment.created, mention.created and comment.resolved, signed', async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const hook = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200).end();
      });
    });
    hook.listen(0, '127.0.0.1');
    await new Promise((resolve) => hook.once('listening', resolve));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const server = await attach(
      { port: 0 },
      {
        storage: 'memory:',
        hooks: { authenticate: ({ token }) => ({ id: String(token) }) },
        webhooks: {
          endpoints: [
            { url, secret: SECRET, events: ['comment.created', 'comment.resolved', 'mention.created'] },
          ],
        },
        extensions: [comments()],
      },
    );
    const ann = client(server.url(), { token: 'ann' });
    try {
      const doc = ann.doc<{ body: string }>('notes', 'hooks');
      await doc.create({ body: 'hello world' });
      const view = threadsOf(doc);
      const thread = await view.add({
        anchor: { path: ['body'], start: 0, end: 5 },
        body: {
          text: '@ben @cy look',
          mentions: [
            { start: 0, end: 4, userId: 'ben' },
            { start: 5, end: 8, userId: 'cy' },
          ],
        },
      });
      await view.reply(thread.id, 'a reply');
      await view.resolve(thread.id);
      await view.resolve(thread.id);
      const events = () =>
        received.map((r) => verifyWebhook(SECRET, r.headers as never, r.body) as WebhookEvent<any>);
      await until(() => received.length === 5, 10_000, 'five webhooks');
      const byType = (type: string) => events().filter((e) => e.type === type);
      expect(
        byType('comment.created').map((e) => [e.data.threadId, e.data.reply, e.data.comment.body.text]),
      ).toEqual([
        [thread.id, false, '@ben @cy look'],
        [thread.id, true, 'a reply'],
      ]);
      expect(
        byType('mention.created')
          .map((e) => e.data.userId)
          .sort(),
      ).toEqual(['ben', 'cy']);
      expect(byType('mention.created')[0].data).toMatchObject({
        collection: 'notes',
        id: 'hooks',
        by: { id: 'ann' },
      });
      expect(byType('comment.resolved')).toHaveLength(1);
      expect(byType('comment.resolved')[0].data).toMatchObject({
        threadId: thread.id,
        resolved: { by: { id: 'ann' } },
      });
    } finally {
      await ann.close();
      await server.close();
      hook.closeAllConnections();
      await new Promise((resolve) => hook.close(resolve));
    }
  });
});
