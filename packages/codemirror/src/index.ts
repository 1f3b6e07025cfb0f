export type { TandemCollabOptions } from './collab';
export { tandemCollab, tandemRedo, tandemUndo, tandemUndoKeymap } from './collab';
export type { TextRange } from './ranges';
export { getRanges, setRanges } from './ranges';
export { fromTandem } from './sync';
