#!/usr/bin/env tsx
/**
 * tandem-bench: run one benchmark suite, or all of them, and print ratios against the baselines
 * measured in the same run. Usage: `pnpm bench [suite …] [--quick]`.
 * Each suite is its own module under ./suites exporting `run(options)`.
 */
import type { BenchOptions } from './report';

const suites = {
  ot: () => import('./suites/ot'),
  trace: () => import('./suites/trace'),
  storage: () => import('./suites/storage'),
  conflicts: () => import('./suites/conflicts'),
  history: () => import('./suites/history'),
  e2e: () => import('./suites/e2e'),
  flood: () => import('./suites/flood'),
  keystroke: () => import('./suites/keystroke'),
} satisfies Record<string, () => Promise<{ run(options: BenchOptions): Promise<void> }>>;

type SuiteName = keyof typeof suites;

async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !(n in suites));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  const selected = (names.length > 0 ? names : Object.keys(suites)) as SuiteName[];
  for (const name of selected) {
    console.log(`\n## ${name}${quick ? ' (quick)' : ''}\n`);
    const suite = await suites[name]();
    await suite.run({ quick });
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
