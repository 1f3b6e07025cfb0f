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
