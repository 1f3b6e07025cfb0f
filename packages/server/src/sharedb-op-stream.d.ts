// @types/sharedb does not declare the op stream each subscription reads; this is the part Tandem uses.
declare module 'sharedb/lib/op-stream' {
  import type { Readable } from 'node:stream';

  class OpStream extends Readable {
    open: boolean;
    pushData(data: unknown): void;
  }
  export default OpStream;
}
