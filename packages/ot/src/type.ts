/**
 * The ShareDB OT type object for plain JSON snapshots. Same `name` and `uri` as json1, so ops on
 * the wire are plain json1 and a stock ShareDB client can `types.register()` this object (or json1
 * itself) and interoperate; the differences are all on the safe side: `transform` never throws on
 * conflicts, and `transformPresence` exists.
 */
import { type Doc, JSON1_NAME, JSON1_URI, type JSONOp } from './json1';
import { apply, compose, invertForShareDB, invertWithDoc, isNoop, makeInvertible, normalize } from './ops';
import { type Presence, transformPresence } from './presence';
import { type Side, transform } from './transform';

export interface TandemType<Snapshot> {
  readonly name: string;
  readonly uri: string;
  create(data?: Doc): Snapshot;
  apply(snapshot: Snapshot, op: JSONOp): Snapshot;
  transform(op: JSONOp, other: JSONOp, side: Side): JSONOp;
  compose(a: JSONOp, b: JSONOp): JSONOp;
  invert(op: JSONOp): JSONOp;
  invertWithDoc(op: JSONOp, snapshot: Snapshot): JSONOp;
  makeInvertible(op: JSONOp, snapshot: Snapshot): JSONOp;
  normalize(op: JSONOp): JSONOp;
  isNoop(op: JSONOp): boolean;
  transformPresence(presence: Presence | null, op: JSONOp, isOwnOp: boolean): Presence | null;
}

/** The drop-in type for clients and for anything that holds plain JSON snapshots. */
export const type: TandemType<Doc | undefined> = {
  name: JSON1_NAME,
  uri: JSON1_URI,
  // json1 documents are created with the initial data as is (ShareDB passes `create.data`).
  create: (data?: Doc) => data,
  apply,
  transform,
  compose,
  invert: invertForShareDB,
  invertWithDoc,
  makeInvertible,
  normalize,
  isNoop,
  transformPresence,
};

/** A ShareDB `types` registry (the server's `ShareDB.types` or the client's `ShareDB.types`). */
export interface TypeRegistry {
  map: Record<string, unknown>;
  register(type: never): void;
}

/** Register the Tandem type with a ShareDB registry, once (every package that needs it calls this). */
export function registerTandemType(types: TypeRegistry): void {
  if (types.map[type.uri] === undefined) types.register(type as never);
}
