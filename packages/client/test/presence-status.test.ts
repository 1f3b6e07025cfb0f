import { DocPresence } from '@tandem/client';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** The slice of ShareDB's DocPresence that DocPresence drives. */
function fakePresence() {
  const submitted: { status: string; offset?: number }[] = [];
  const local = {
    value: null as unknown,
    submit(value: unknown, callback?: () => void) {
      local.value = value;
      submitted.push(value as { status: string });
      callback?.();
    },
  };
  return {
    submitted,
    presence: {
      remotePresences: {},
      subscribe: (callback: () => void) => callback(),
      unsubscribe: (callback: () => void) => callback(),
      create: () => local,
      on: () => {},
      destroy: () => {},
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('presence status', () => {
  it('derives editing / online / idle from activity and republishes on change', async () => {
    vi.useFakeTimers();
    const { presence, submitted } = fakePresence();
    const view = new DocPresence(presence as never, () => {});
    await view.update({ path: ['text'], offset: 3 });
    expect(submitted.at(-1)).toMatchObject({ status: 'online', offset: 3 });
    view.noteEdit();
    await Promise.resolve(); // the resend waits for the op to have applied (a microtask)
    expect(submitted.at(-1)?.status).toBe('editing');
    vi.advanceTimersByTime(4_000);
    expect(submitted.at(-1)?.status).toBe('online');
    vi.advanceTimersByTime(61_000);
    expect(submitted.at(-1)).toMatchObject({ status: 'idle', offset: 3 });
    view.destroy();
  });
});

describe('typing indicators', () => {
  it('are sent on the first keystroke, kept up while typing goes on, and gone 5 s after the last one', async () => {
    vi.useFakeTimers();
    const { presence, submitted } = fakePresence();
    const view = new DocPresence(presence as never, () => {});
    view.typing('t1');
    await Promise.resolve();
    expect(submitted.at(-1)).toMatchObject({ path: [], status: 'commenting', typing: { threadId: 't1' } });
    const sent = submitted.length;
    // Keystrokes every second for 4 s: one keep-alive every 2 s, not one per keystroke.
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(1_000);
      view.typing('t1');
      await Promise.resolve();
    }
    expect(submitted.length - sent).toBeLessThanOrEqual(3);
    expect(submitted.at(-1)).toMatchObject({ typing: { threadId: 't1' } });
    vi.advanceTimersByTime(4_999);
    expect(submitted.at(-1)).toHaveProperty('typing');
    vi.advanceTimersByTime(1);
    expect(submitted.at(-1)).not.toHaveProperty('typing');
    // Typing in the document: an indicator without a thread.
    view.noteEdit();
    await Promise.resolve();
    expect(submitted.at(-1)).toMatchObject({ status: 'editing', typing: {} });
    view.destroy();
  });

  it("a peer's indicator expires here 5 s after it last arrived, with a change event", async () => {
    vi.useFakeTimers();
    const { presence } = fakePresence();
    let receive: (id: string) => void = () => {};
    const remote: Record<string, unknown> = {};
    const view = new DocPresence(
      {
        ...presence,
        remotePresences: remote,
        on: (event: string, listener: (id: string) => void) => {
          if (event === 'receive') receive = listener;
        },
      } as never,
      () => {},
    );
    const changes: unknown[] = [];
    view.on('change', (peers) => changes.push(peers));
    remote.p1 = { path: [], status: 'commenting', typing: { threadId: 't' }, user: { id: 'b' } };
    receive('p1');
    expect(view.peers()[0].typing).toEqual({ threadId: 't' });
    vi.advanceTimersByTime(4_000);
    expect(view.peers()[0].typing).toEqual({ threadId: 't' });
    const before = changes.length;
    vi.advanceTimersByTime(1_500);
    expect(view.peers()[0].typing).toBeUndefined();
    expect(changes.length).toBe(before + 1);
    view.destroy();
  });
});
