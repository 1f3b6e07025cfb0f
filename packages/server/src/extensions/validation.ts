/**
 * The validation steps in ShareDB's middleware: collection allowlist on every client message,
 * op checks at submit (before any work is done on the op), document size and JSON Schema at commit
 * (on the snapshot the op produces). Server-side agents (no principal) are trusted and skipped.
 */
import { isReservedCollection } from '@tandem/conflicts';
import { type as tandemType } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import {
  checkResultingDocument,
  checkSubmittedOp,
  DocumentSizes,
  type ResolvedValidation,
} from '../security/limits';
import { principalOf } from '../sharedb/agent-custom';

type Next = (error?: unknown) => void;

const isClient = (agent: unknown) => principalOf(agent) !== undefined;

/** The op's JSON size, carried from submit to commit on ShareDB's request `custom` bag. */
const OP_BYTES = 'tandemOpBytes';

export function installValidation(backend: ShareDB, limits: ResolvedValidation): void {
  const use = backend.use.bind(backend) as (action: string, fn: (context: any, next: Next) => void) => void;
  const sizes = new DocumentSizes(limits.maxDocumentBytes);

  // receive: a collection outside the allowlist does not exist for clients (reads, queries, writes).
  use('receive', (context, next) => {
    const collection = (context.data as { c?: unknown } | undefined)?.c;
    if (
      typeof collection !== 'string' ||
      isReservedCollection(collection) ||
      limits.collectionAllowed(collection) ||
      !isClient(context.agent)
    )
      return next();
    next(new TandemError(ErrorCode.NOT_FOUND, `unknown collection '${collection}'`, { collection }));
  });

  // submit: size, strings, depth of the op itself; documents are Tandem's one type (ShareDB also
  // knows json0, whose documents would bypass every check written for json1).
  use('submit', (context, next) => {
    if (!isClient(context.agent)) return next();
    const create = context.op.create as { type?: unknown } | undefined;
    if (create !== undefined && create.type !== tandemType.uri && create.type !== tandemType.name)
      return next(
        new TandemError(ErrorCode.INVALID_OP, `documents are of type ${tandemType.name}`, { reason: 'type' }),
      );
    try {
      context.custom[OP_BYTES] = checkSubmittedOp(context.op, limits);
      next();
    } catch (error) {
      next(TandemError.from(error, ErrorCode.INVALID_OP));
    }
  });

  // commit: the document the op produces — its size, then its schema.
  use('commit', (context, next) => {
    if (!isClient(context.agent) || context.snapshot?.type == null) return next();
    try {
      sizes.check(
        `${context.collection}/${context.id}`,
        context.custom[OP_BYTES] ?? 0,
        () => context.snapshot.data,
      );
      checkResultingDocument(context.op.op, context.snapshot.data, limits);
      limits.schemaFor(context.collection)?.(context.snapshot.data);
      next();
    } catch (error) {
      next(TandemError.from(error, ErrorCode.INVALID_OP));
    }
  });
}
