#!/usr/bin/env tsx
/**
 * tandem-bench: run one benchmark suite, or all of them, and print ratios against the baselines
 * measured in the same run. Usage: `pnpm bench [suite …] [--quick]`, `--help` for the list,
 * `pnpm bench <suite> --help` for a suite's own options.
 * Each suite is its own module under ./suites exporting `run(options)`.
 */
import type { BenchOptions } from './report';

type Suite = { run(options: BenchOptions): Promise<void>; usage?: string };

const suites = {
  ot: ['apply / transform / compose / diff of @tandem/ot against raw ot-json1', () => import('./suites/ot')],
  trace: [
    'the automerge-paper editing trace through @tandem/ot, Yjs, plain strings',
    () => import('./suites/trace'),
  ],
  storage: [
    'committed ops/s through ShareDB: MemoryDB vs SQLite and PostgreSQL',
    () => import('./suites/storage'),
  ],
  conflicts: ['classification overhead per committed op', () => import('./suites/conflicts')],
  history: ['time travel and history pages on a 100,000-op document', () => import('./suites/history')],
  e2e: [
    'one room, 10 / 100 / 500 clients: Tandem vs ShareDB, Hocuspocus/Yjs, bare ws',
    () => import('./suites/e2e'),
  ],
  flood: ['typing latency while attacker sockets flood the server', () => import('./suites/flood')],
  locks: ['lock acquires: one by one and in bursts, write attempts and cost', () => import('./suites/locks')],
  rooms: [
    'a room of typists and viewers, server pinned to one core: throughput, p99, server CPU',
    () => import('./suites/rooms'),
  ],
  keystroke: [
    'keystroke in one Chromium page to render in another, three pages typing (CodeMirror binding)',
    () => import('./suites/keystroke'),
  ],
  comments: [
    'typing rate with and without 1,000 comment threads; listing them after 10,000 ops',
    () => import('./suites/comments'),
  ],
  size: [
    'browser bundle size: @tandem/client vs sharedb + ot-json1 vs yjs + y-websocket',
    () => import('./suites/size'),
  ],
} satisfies Record<string, [string, () => Promise<Suite>]>;

type SuiteName = keyof typeof suites;

const FLAGS = new Set(['--quick', '--help', '-h']);

function usage(): string {
  const width = Math.max(...Object.keys(suites).map((n) => n.length));
  return [
    'Usage: tandem-bench [suite …] [--quick]     (pnpm bench …; no suite runs every suite)',
    '',
    'Suites:',
    ...Object.entries(suites).map(([name, [what]]) => `  ${name.padEnd(width)}  ${what}`),
    '',
    'Options:',
    '  --quick   short runs (same code paths, fewer iterations)',
    '  --help    print this and run nothing',
    '',
    'Figures and the commands that made them: docs/benchmarks.md. Build first: npx -y pnpm@10 build',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
    // Suites with options of their own (environment variables) describe them: `rooms --help`.
    for (const name of argv.filter((a): a is SuiteName => a in suites)) {
      const suite = (await suites[name][1]()) as { usage?: string };
      if (suite.usage !== undefined) console.log(`\n${suite.usage}`);
    }
    return;
  }
  const badFlags = argv.filter((a) => a.startsWith('-') && !FLAGS.has(a));
  if (badFlags.length > 0) {
    console.error(`unknown option(s): ${badFlags.join(', ')}\n\n${usage()}`);
    process.exit(2);
  }
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !(n in suites));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}\n\n${usage()}`);
    process.exit(2);
  }
  const selected = (names.length > 0 ? names : Object.keys(suites)) as SuiteName[];
  for (const name of selected) {
    console.log(`\n## ${name}${quick ? ' (quick)' : ''}\n`);
    const suite = await suites[name][1]();
    await suite.run({ quick });
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
