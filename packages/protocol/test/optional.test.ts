import { createRequire } from 'node:module';
import { optionalImport } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';

// A name no registry package has, so the test never depends on what happens to be installed.
const missing = 'tandem-test-missing-package-0000';

describe('optionalImport', () => {
  it('names the package to install when an ESM import cannot find it', async () => {
    const name = missing; // a variable: the import is resolved at run time only
    await expect(optionalImport(name, () => import(name), 'the test feature')).rejects.toMatchObject({
      name: 'TandemError',
      code: 'INVALID_CONFIG',
      message: `the test feature needs the optional package ${missing}: install it (npm install ${missing})`,
      details: { package: missing, feature: 'the test feature' },
    });
  });

  it('does the same for a require (the CJS build)', async () => {
    const require = createRequire(import.meta.url);
    await expect(
      optionalImport(missing, async () => require(missing), 'the test feature'),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG', details: { package: missing } });
  });

  it('returns the module when it is there, and rethrows any other failure as it is', async () => {
    await expect(optionalImport('node:path', () => import('node:path'), 'x')).resolves.toHaveProperty('join');
    const boom = new Error('broken package');
    await expect(optionalImport('x', () => Promise.reject(boom), 'x')).rejects.toBe(boom);
  });
});
