/** What every history module gets: the I/O edge and the resolved options. */
import type { HistoryIO } from './io';
import type { ResolvedHistoryOptions } from './options';

export interface HistoryContext {
  readonly io: HistoryIO;
  readonly options: ResolvedHistoryOptions;
}

/** Scan limits for reading a whole range: one batch of up to `readBatch` ops at a time. */
export function readAll(ctx: HistoryContext): { maxBatch: number; firstBatch: number } {
  return { maxBatch: ctx.options.readBatch, firstBatch: ctx.options.readBatch };
}
