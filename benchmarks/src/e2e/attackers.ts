/**
 * The flood suite's attacker sockets, run as their own child process:
 * `node --conditions=source --import tsx src/e2e/attackers.ts`. Receives one AttackConfig over IPC,
 * opens plain ShareDB-protocol sockets (JSON, no subprotocol: the cheapest client to script) and
 * has each submit single-character ops at a fixed rate, whatever the server answers. A socket the
 * server closes is reopened after `reconnectMs`, as a script would. On `stop` it reports what it saw.
 * Frames from the server are classified by substring, not parsed, so the attacker stays cheap.
 */
import { setPriority } from 'node:os';
import { WebSocket } from 'ws';

export interface AttackConfig {
  url: string;
  sockets: number;
  /** Ops per second each socket sends. */
  rate: number;
  /** 'one': every socket is the same user (one account, many tabs/scripts); 'distinct': a user per socket. */
  users: 'one' | 'distinct';
  /** Where the ops go: the honest clients' document, or a document per attacker user. */
  target: { collection: string; docId: string } | 'own';
  reconnectMs: number;
}

export interface AttackResult {
  /** `sent`, `acked` and `skipped` are counted from `window-start` to `stop`, the rest over the attack. */
  windowMs: number;
  sent: number;
  /** Ops the server acknowledged (admitted past the limiter and committed). */
  acked: number;
  /** RATE_LIMITED notices (one per throttled episode) and violation closes (bucket 'queue'). */
  notices: number;
  violations: number;
  /** Sockets closed by the server, for any reason, and reopened. */
  closed: number;
  /** Sends skipped because the socket's own buffer was full (the server was not reading). */
  skipped: number;
  otherErrors: string[];
}

type Control = { type: 'start'; config: AttackConfig } | { type: 'window-start' } | { type: 'stop' };

/** Insert 'x' at the start of the text: valid at any version, so never transformed or refused. */
const OP = JSON.stringify(['text', { es: ['x'] }]);
/** Beyond this many unsent bytes a socket waits, so the attacker's memory stays bounded. */
const MAX_BUFFERED = 1 << 20;

const counters = { sent: 0, acked: 0, notices: 0, violations: 0, closed: 0, skipped: 0 };
const otherErrors = new Set<string>();
let windowStart = performance.now();
let running = true;

/** One attacker socket, reopened whenever the server closes it. */
class Attacker {
  private ws: WebSocket | undefined;
  private ready = false;
  private seq = 0;
  private due = 0;
  private created = false;
  private readonly user: string;
  private readonly prefix: string;

  constructor(
    private readonly config: AttackConfig,
    index: number,
  ) {
    this.user = config.users === 'one' ? 'attacker' : `attacker-${index}`;
    // With one user and its own document, every socket shares that document.
    const doc = config.target === 'own' ? { collection: 'flood', docId: this.user } : config.target;
    this.prefix = `{"a":"op","c":${JSON.stringify(doc.collection)},"d":${JSON.stringify(doc.docId)},"seq":`;
    this.created = config.target !== 'own' || (config.users === 'one' && index > 0);
    this.open();
  }

  private open(): void {
    const ws = new WebSocket(`${this.config.url}?token=${encodeURIComponent(this.user)}`, [], {
      perMessageDeflate: false,
    });
    this.ws = ws;
    this.ready = false;
    this.due = 0;
    ws.on('message', (data: Buffer) => {
      if (!this.ready) {
        // The first frame is ShareDB's init: the session has started and ops are accepted.
        this.ready = true;
        attackerReady();
        if (!this.created) {
          this.created = true;
          ws.send(`${this.prefix}${++this.seq},"create":{"type":"json1","data":{"text":""}}}`);
        }
        return;
      }
      const text = data.toString('latin1');
      if (text.includes('RATE_LIMITED')) {
        if (text.includes('"queue"')) counters.violations++;
        else counters.notices++;
      } else if (text.includes('"error"')) {
        otherErrors.add(text.slice(0, 200));
      } else if (text.includes('"a":"op"') && !text.includes('"op":')) {
        // An ack names the op (`seq`, `v`) without its edit.
        counters.acked++;
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      this.ready = false;
      if (!running) return;
      counters.closed++;
      setTimeout(() => running && this.open(), this.config.reconnectMs);
    });
  }

  /** Send what is owed after `elapsedMs` at the configured rate. */
  tick(elapsedMs: number): void {
    const ws = this.ws;
    if (!this.ready || ws === undefined) return;
    this.due += (elapsedMs * this.config.rate) / 1000;
    for (; this.due >= 1; this.due--) {
      if (ws.bufferedAmount > MAX_BUFFERED) {
        counters.skipped++;
        continue;
      }
      ws.send(`${this.prefix}${++this.seq},"op":${OP}}`);
      counters.sent++;
    }
  }

  close(): void {
    this.ws?.terminate();
  }
}

function attack(config: AttackConfig): () => void {
  const attackers = Array.from({ length: config.sockets }, (_, i) => new Attacker(config, i));
  // One timer for every socket, not one per socket.
  let last = performance.now();
  const timer = setInterval(() => {
    const t = performance.now();
    for (const attacker of attackers) attacker.tick(t - last);
    last = t;
  }, 10);
  return () => {
    running = false;
    clearInterval(timer);
    for (const attacker of attackers) attacker.close();
  };
}

let stop: (() => void) | undefined;
let readySockets = 0;
let sockets = 0;
/** Tell the orchestrator once every socket is in its session (the first time only). */
function attackerReady(): void {
  if (++readySockets === sockets) process.send?.({ type: 'ready' });
}

// Real attackers run on other machines: at the lowest priority this process only takes CPU time
// the server and the honest clients leave idle (the suite reports the rate actually sent).
try {
  setPriority(19);
} catch {
  // Not permitted here: it runs at normal priority.
}

process.on('message', (message: Control) => {
  if (message.type === 'start') {
    sockets = message.config.sockets;
    stop = attack(message.config);
  } else if (message.type === 'window-start') {
    windowStart = performance.now();
    counters.sent = 0;
    counters.acked = 0;
    counters.skipped = 0;
  } else {
    const result: AttackResult = {
      windowMs: performance.now() - windowStart,
      ...counters,
      otherErrors: [...otherErrors].slice(0, 5),
    };
    stop?.();
    process.send?.({ type: 'result', result }, () => process.exit(0));
  }
});
// The orchestrator going away (even killed) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
