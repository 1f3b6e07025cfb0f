/**
 * Tests that run built packages (dist/) instead of src/ call this first: a dist/ older than its
 * src/ must fail the test, never pass it. The test command builds before it runs the tests.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('../packages/', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The named packages (folder names under packages/) whose dist/ is missing or older than src/. */
export function staleDist(packages: readonly string[]): string[] {
  return packages.filter((name) => {
    const dist = join(packagesDir, name, 'dist');
    return !existsSync(dist) || newestMtime(dist) < newestMtime(join(packagesDir, name, 'src'));
  });
}

/** Throws unless every named package has a dist/ newer than its src/. */
export function assertFreshDist(packages: readonly string[]): void {
  const stale = staleDist(packages);
  if (stale.length > 0)
    throw new Error(`dist/ older than src/ in ${stale.join(', ')}: run \`npx -y pnpm@10 build\` first`);
}
