import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const benchmarks = fileURLToPath(new URL('..', import.meta.url));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { cwd: benchmarks },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

describe('tandem-bench CLI', () => {
  it('--help prints the usage with every suite and runs nothing', async () => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: tandem-bench/);
    for (const suite of [
      'ot',
      'trace',
      'storage',
      'conflicts',
      'history',
      'e2e',
      'rooms',
      'flood',
      'locks',
      'keystroke',
      'size',
    ])
      expect(stdout).toMatch(new RegExp(`^  ${suite} `, 'm'));
    expect(stdout).not.toContain('## '); // no suite started
  });

  it('<suite> --help adds that suite’s own options', async () => {
    const { code, stdout } = await cli('rooms', '--help');
    expect(code).toBe(0);
    expect(stdout).toContain('ROOMS_SYSTEMS');
    expect(stdout).not.toContain('## ');
  });

  it('refuses unknown suites and options with the usage', async () => {
    for (const { code, stderr } of await Promise.all([cli('nope'), cli('--nope')])) {
      expect(code).toBe(2);
      expect(stderr).toContain('Usage: tandem-bench');
    }
  });
});
