import { type AttachedTandem, attach } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

let server: AttachedTandem;
beforeAll(async () => {
  server = await attach({ port: 0 }, { storage: 'memory:' });
});
afterAll(async () => {
  await server.close();
});

describe("the doc's load event", () => {
  it('fires when the data is replaced without an op: first load, and a create by someone else', async () => {
    const a = client(server.url());
    const b = client(server.url());
    const docA = a.doc<{ t: string }>('load', 'd');
    let loads = 0;
    docA.on('load', () => loads++);
    await docA.subscribe();
    expect(loads).toBe(1); // loaded (the document does not exist yet)
    expect(docA.data).toBeUndefined();
    await b.doc<{ t: string }>('load', 'd').create({ t: 'made by b' });
    await until(() => docA.data?.t === 'made by b', 5_000, 'the remote create');
    expect(loads).toBe(2);
    let changes = 0;
    docA.on('change', () => changes++);
    await docA.text(['t']).insert(0, '>');
    expect(loads).toBe(2); // ops are change events, not loads
    expect(changes).toBe(1);
    await a.close();
    await b.close();
  });
});

describe('presence through my own edits', () => {
  it("peers see my caret after what I typed, also when typing changes my status to 'editing'", async () => {
    const a = client(server.url());
    const b = client(server.url());
    const docA = a.doc<{ t: string }>('caret', 'd');
    await docA.create({ t: 'a😀c' });
    await docA.subscribe();
    const docB = b.doc<{ t: string }>('caret', 'd');
    await docB.subscribe();
    const mine = () => docB.presence.peers().find((p) => p.user.id === a.user?.id);
    await docA.presence.update({ path: ['t'], offset: 2 }); // after the emoji (code points)
    await until(() => mine()?.offset === 2, 5_000, 'my caret at the peer');
    // The first keystroke makes the status 'editing' (a resend); the caret moves with my insert.
    await docA.text(['t']).insert(3, 'xy');
    await until(() => docB.data?.t === 'a😀xyc', 5_000, 'the edit');
    await until(() => mine()?.status === 'editing', 5_000, 'the status resend');
    expect(mine()?.offset).toBe(4);
    await a.close();
    await b.close();
  });
});
