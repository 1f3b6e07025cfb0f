/**
 * The reconnecting socket's backoff, with faked timers and a fake WebSocket that never opens:
 * retries wait out a growing delay, and `reconnect()` cuts a pending wait short.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clientCodec } from '../src/codecs';
import { ReconnectingSocket, type WebSocketLike } from '../src/socket';

const opened: FakeSocket[] = [];

class FakeSocket implements WebSocketLike {
  readyState = 0;
  protocol = '';
  binaryType = 'arraybuffer';
  onopen: WebSocketLike['onopen'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  constructor(readonly url: string) {
    opened.push(this);
  }
  send(): void {}
  close(code = 1000, reason = ''): void {
    this.onclose?.({ code, reason });
  }
  /** The server refused or the network is down. */
  fail(): void {
    this.onclose?.({ code: 1006, reason: '' });
  }
}

afterEach(() => {
  vi.useRealTimers();
  opened.length = 0;
});

describe('ReconnectingSocket backoff', () => {
  it('retries after a growing delay, and reconnect() tries at once instead of waiting it out', async () => {
    vi.useFakeTimers();
    const socket = new ReconnectingSocket(
      FakeSocket,
      clientCodec('json'),
      { url: async () => 'ws://x/tandem', onTandemMessage: () => {}, onDecodeError: () => {} },
      { minDelayMs: 1_000, maxDelayMs: 60_000 },
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(opened).toHaveLength(1);
    // Three failures: the next wait is in [4 s, 8 s).
    for (let i = 1; i <= 3; i++) {
      opened[i - 1].fail();
      await vi.advanceTimersByTimeAsync(2 ** i * 1_000);
      expect(opened).toHaveLength(i + 1);
    }
    opened[3].fail();
    await vi.advanceTimersByTimeAsync(3_999);
    expect(opened).toHaveLength(4); // still waiting
    socket.reconnect();
    await vi.advanceTimersByTimeAsync(0);
    expect(opened).toHaveLength(5); // no wait
    // The backoff starts over: the next failure waits at most the first delay.
    opened[4].fail();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(opened).toHaveLength(6);
    socket.close();
  });
});
