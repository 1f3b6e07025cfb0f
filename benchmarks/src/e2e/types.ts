/** What the e2e orchestrator, the server child and the clients child exchange over IPC. */

/** The systems under test. `tandem-*` is @tandem/server; the suffix is the client/codec used. */
export const SYSTEMS = ['ws', 'sharedb', 'hocuspocus', 'tandem-json', 'tandem-msgpack'] as const;
export type SystemName = (typeof SYSTEMS)[number] | 'tandem-stock';

export const SYSTEM_LABELS: Record<SystemName, string> = {
  ws: 'bare ws broadcast',
  sharedb: 'raw ShareDB + json1',
  hocuspocus: 'Hocuspocus 3 / Yjs',
  'tandem-json': 'Tandem (JSON)',
  'tandem-msgpack': 'Tandem (msgpack)',
  'tandem-stock': 'Tandem (stock ShareDB client, plain JSON)',
};

/** Which server a system runs. */
export function serverOf(system: SystemName): 'ws' | 'sharedb' | 'hocuspocus' | 'tandem' {
  return system.startsWith('tandem') ? 'tandem' : (system as 'ws' | 'sharedb' | 'hocuspocus');
}

export interface LoadConfig {
  kind: 'load';
  system: SystemName;
  url: string;
  clients: number;
  /** Total offered keystrokes per second over all clients; 0 = full speed (closed loop). */
  rate: number;
  warmupMs: number;
  measureMs: number;
  /** Longest wait for in-flight ops and convergence after the load stops. */
  drainMs: number;
  /** Collection and document id of the room. */
  collection: string;
  docId: string;
  seed: number;
  /**
   * The room shape (the rooms suite): clients 0 … typists−1 type, as each system's own full client
   * (HocuspocusProvider for Hocuspocus); the others are viewers that subscribe over the raw protocol
   * and count frames (./viewers.ts). Unset: every client types, with the e2e suite's clients.
   */
  typists?: number;
}

export interface IdleConfig {
  kind: 'idle';
  system: SystemName;
  url: string;
  clients: number;
  collection: string;
  docId: string;
}

export type ClientsConfig = LoadConfig | IdleConfig;

export interface LoadResult {
  kind: 'load';
  /** Keystrokes acknowledged by the server inside the window, per second. */
  committedPerSec: number;
  /** Keystrokes received by the other clients inside the window, per second per receiver. */
  deliveredPerSec: number;
  /** Latency from the sender's keystroke to receipt by each other client (ms). */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  samples: number;
  /** Keystrokes sent in the window whose delivery to some client never arrived before the drain ended. */
  missing: number;
  /** Bytes received by clients per delivered op (frames of every kind, headers excluded). */
  bytesPerOp: number;
  /** Mean WebSocket frame size received by clients (bytes). */
  meanFrameBytes: number;
  /** Delivered ops per received frame (> 1 when the server coalesces). */
  opsPerFrame: number;
  /** Client process CPU time / wall time in the window (1 = one core saturated). */
  clientCpu: number;
  /** 'yes' | 'no (…)' | 'n/a' */
  converged: string;
  connectMs: number;
  /** Keystrokes typed and acknowledged over the whole run (warm-up and drain included). */
  typed: number;
  acked: number;
  /** Distinct error messages from refused keystrokes (first few). */
  errors: string[];
  /** The room shape's viewers (absent when every client types). */
  viewers?: ViewersResult;
}

export interface ViewersResult {
  count: number;
  /** Ops received in the window, per second per viewer. */
  deliveredPerSec: number;
  opsPerFrame: number;
  bytesPerOp: number;
  /** Viewers that proved, after the drain, that they received every op of the room. */
  complete: number;
  /** Why the others did not (first few distinct reasons). */
  failures: string[];
}

export interface IdleResult {
  kind: 'idle';
  connected: number;
  connectMs: number;
}

export type ClientsResult = LoadResult | IdleResult;

/** Idle cells measure the server after 0, ¼, ½, ¾ and all of the sockets opened (`idle-step`). */
export const IDLE_STEPS = 4;

export type ClientsPhase = 'idle-step' | 'connected' | 'measure-start' | 'measure-end';

/** clients → orchestrator */
export type ClientsMessage =
  | { type: 'phase'; phase: ClientsPhase }
  | { type: 'result'; result: ClientsResult }
  | { type: 'error'; message: string };

/** orchestrator → server */
export type ServerRequest = { type: 'snapshot'; gc: boolean; id: number };

/** orchestrator → clients, after a phase that waits */
export type ClientsContinue = { type: 'continue' };

/** server → orchestrator */
export type ServerMessage =
  | { type: 'ready'; url: string }
  | {
      type: 'snapshot';
      id: number;
      rss: number;
      /** JS heap + external (Buffers) in use. */
      heapUsed: number;
      cpuMicros: number;
      /** Tandem's own counters when the server is Tandem. */
      metrics?: Record<string, unknown>;
    }
  | { type: 'error'; message: string };
