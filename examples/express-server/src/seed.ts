/** The documents a fresh demo starts with, created by the server (a trusted agent) when missing. */
import { type } from '@tandem/ot';
import type { Tandem } from '@tandem/server';
import { NEW_FORM } from '../shared/model';

const WELCOME = `Welcome to Tandem.

Open this page in a second window, sign in as someone else, and type in both:
carets, selections and names follow each other's edits, in code points (try 🎉 emoji).

Undo (Ctrl+Z) only undoes your own edits. The History tab shows who wrote what.
`;

const SEEDS: { collection: string; id: string; data: unknown }[] = [
  { collection: 'notes', id: 'welcome', data: { title: 'Welcome', text: WELCOME } },
  { collection: 'notes', id: 'release-plan', data: { title: 'Release plan', text: 'Ship it.\n' } },
  {
    collection: 'forms',
    id: 'laptops',
    data: {
      ...NEW_FORM,
      title: 'Laptops for the new team',
      category: 'hardware',
      items: [{ description: 'Laptop, 16 GB', qty: 3, price: 1200 }],
    },
  },
];

export async function seed(tandem: Tandem): Promise<void> {
  const connection = (await tandem.backend()).connect();
  // Authored as "Demo setup" in the history; `admin` makes it an owner for the role model.
  (connection as unknown as { agent: { custom: Record<string, unknown> } }).agent.custom.principal = {
    id: 'setup',
    name: 'Demo setup',
    roles: ['admin'],
  };
  for (const { collection, id, data } of SEEDS) {
    const doc = connection.get(collection, id);
    await new Promise<void>((resolve, reject) => doc.fetch((e) => (e ? reject(e) : resolve())));
    if (doc.type !== null) continue;
    await new Promise<void>((resolve, reject) =>
      doc.create(data, type.uri, (e) => (e ? reject(e) : resolve())),
    );
  }
  connection.close();
}
