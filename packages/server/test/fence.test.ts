/**
 * The fence refuses a sharedb its patches were not tested with, and one missing anything they
 * replace, with INVALID_CONFIG naming the problem, before a Tandem starts.
 */
import { ErrorCode } from '@tandem/protocol';
import ShareDB from 'sharedb';
import { describe, expect, it, vi } from 'vitest';
import { assertSupported, TESTED_SHAREDB, unsupported } from '../src/sharedb/fence';

const everything = () => true;

describe('the ShareDB fence', () => {
  it('accepts the installed sharedb (createTandem runs the same check)', () => {
    expect(() => assertSupported()).not.toThrow();
  });

  it('refuses versions outside the tested range, and unreadable ones', () => {
    const [major, minor, patch] = TESTED_SHAREDB.from;
    expect(unsupported(`${major}.${minor}.${patch}`, everything)).toBeUndefined();
    expect(unsupported(`${major}.${minor}.${patch + 5}`, everything)).toBeUndefined();
    expect(unsupported(`${major}.${minor}.${patch - 1}`, everything)).toMatch(/is installed/);
    expect(unsupported(TESTED_SHAREDB.below.join('.'), everything)).toMatch(/is installed/);
    expect(unsupported(`${major + 1}.0.0`, everything)).toMatch(/is installed/);
    expect(unsupported('next', everything)).toMatch(/cannot be read/);
  });

  it('names what a patch would replace and cannot find', () => {
    const version = TESTED_SHAREDB.from.join('.');
    expect(unsupported(version, (where, name) => !(where === 'Agent.prototype' && name === '_sendOps'))).toBe(
      'Agent.prototype._sendOps is missing',
    );
    expect(unsupported(version, (where, name) => !(where === 'agent' && name === 'subscribedDocs'))).toBe(
      'an agent has no subscribedDocs',
    );
  });

  it('probes the real classes: a renamed method makes the check fail', async () => {
    const agentPrototype = (ShareDB as unknown as { Agent: { prototype: Record<string, unknown> } }).Agent
      .prototype;
    const original = agentPrototype._onOp;
    vi.resetModules(); // a fresh module has not cached an earlier successful check
    const fresh = await import('../src/sharedb/fence');
    delete agentPrototype._onOp;
    try {
      expect(() => fresh.assertSupported()).toThrow(/Agent\.prototype\._onOp is missing/);
      expect(() => fresh.assertSupported()).toThrow(
        expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }),
      );
    } finally {
      agentPrototype._onOp = original;
    }
    expect(() => fresh.assertSupported()).not.toThrow();
  });
});
