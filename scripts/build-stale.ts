/**
 * `pnpm start` first builds the packages the demo page bundles (as apps bundle them, from dist/),
 * but only those whose dist/ is missing or older than their src/: a second start is quick.
 */
import { execFileSync } from 'node:child_process';
import { staleDist } from '../test/fresh-dist';

const stale = staleDist(process.argv.slice(2));
if (stale.length > 0) {
  console.log(`building ${stale.join(', ')} (dist/ missing or older than src/)`);
  const filters = stale.flatMap((name) => ['--filter', `@tandem/${name}`]);
  execFileSync('npx', ['-y', 'pnpm@10', ...filters, 'run', 'build'], { stdio: 'inherit' });
}
