/** `document.committed` for every op committed on this process (Tandem's own records excepted). */
import { isReservedCollection } from '@tandem/conflicts';
import type { OpAuthor } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import { principalOf } from '../../sharedb/agent-custom';
import type { Webhooks } from './delivery';
import type { CommitEventData } from './events';

type Next = (error?: unknown) => void;

interface AfterWriteContext {
  collection: string;
  id: string;
  op: { v: number; op?: unknown; create?: unknown; del?: unknown; au?: OpAuthor };
  agent?: unknown;
}

/** Send `document.committed` for every op committed on this process (Tandem's own records excepted). */
export function installCommitWebhooks(backend: ShareDB, webhooks: Webhooks): void {
  if (!webhooks.wants('document.committed')) return;
  const use = backend.use.bind(backend) as (
    action: string,
    fn: (context: AfterWriteContext, next: Next) => void,
  ) => void;
  use('afterWrite', (context, next) => {
    if (!isReservedCollection(context.collection)) {
      const { op } = context;
      const principal = principalOf(context.agent);
      const author =
        op.au ??
        (typeof principal?.id === 'string'
          ? { id: principal.id, name: typeof principal.name === 'string' ? principal.name : principal.id }
          : null);
      const data: CommitEventData = {
        collection: context.collection,
        id: context.id,
        version: op.v + 1,
        kind: op.create !== undefined ? 'create' : op.del !== undefined ? 'delete' : 'op',
        author,
      };
      if (op.op !== undefined) data.op = op.op;
      webhooks.emit('document.committed', data);
    }
    next();
  });
}
