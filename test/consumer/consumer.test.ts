/**
 * The consumer test: what a user of the published packages runs. Every package is packed
 * (`pnpm pack`) and installed with plain npm into a project outside the workspace, then used there
 * the ways users use it: a strict TypeScript host app type-checked under node16 and bundler
 * resolution with skipLibCheck off, run as ESM and as CJS (two Node clients converge over a real
 * socket); the client bundled for browsers by esbuild and by vite with no polyfills, and two real
 * Chromium pages (one per bundle) converging against the running host. publint and attw check
 * every tarball.
 *
 * It tests the built dist/ (the test command builds first); a dist older than its src fails here.
 * npm reuses its cache (`--prefer-offline`); better-sqlite3's native addon is copied from the
 * workspace's build of the same version instead of compiled again (minutes on 2 cores).
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { build as viteBuild } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../chromium';
import { assertFreshDist } from '../fresh-dist';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = fileURLToPath(new URL('./app/', import.meta.url));
const require = createRequire(import.meta.url);
const packages = readdirSync(join(root, 'packages')).sort();
const browsers = haveChromium('the consumer test in Chromium');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
}

/**
 * Run `jobs` two at a time: the machine has 2 cores, shared with the other test projects, and a
 * dozen type checkers at once would only starve them.
 */
async function twoAtATime<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

/** Heavy steps (attw, tsc) take seconds each alone and minutes on a loaded machine. */
const SLOW_STEP_MS = 240_000;

/** A failed step shows its output in the assertion message. */
function expectSuccess(result: Run, what: string): void {
  expect(result.code, `${what} failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
}

let project: string;
let tarballs: Record<string, string>;

beforeAll(async () => {
  assertFreshDist(packages);
  project = await mkdtemp(join(tmpdir(), 'tandem-consumer-'));
  const packs = join(project, 'packs');
  const packed = await run(
    'npx',
    ['-y', 'pnpm@10', '-r', '--filter', './packages/*', 'pack', '--pack-destination', packs],
    root,
  );
  expectSuccess(packed, 'pnpm pack');
  tarballs = Object.fromEntries(
    readdirSync(packs).map((file) => [
      `@tandem/${file.replace(/^tandem-(.*)-\d+\.\d+\.\d+\.tgz$/, '$1')}`,
      file,
    ]),
  );
  expect(Object.keys(tarballs).sort()).toEqual(packages.map((name) => `@tandem/${name}`));

  const app = join(project, 'app');
  mkdirSync(app);
  for (const file of readdirSync(fixture)) copyFileSync(join(fixture, file), join(app, file));
  const dependencies: Record<string, string> = {
    // The host's own dependencies, nothing of ours: no @types for our dependencies, no polyfills.
    express: '^5.1.0',
    ws: '^8.18.3',
    '@types/express': '^5.0.0',
    '@types/node': '^20.19.0',
    '@types/ws': '^8.18.1',
  };
  for (const [name, file] of Object.entries(tarballs)) dependencies[name] = `file:../packs/${file}`;
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'tandem-consumer', private: true, type: 'module', dependencies }, null, 2),
  );
  const installed = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    app,
  );
  expectSuccess(installed, 'npm install');
  await provideSqliteAddon(app);
}, 240_000);

afterAll(async () => {
  if (project !== undefined) await rm(project, { recursive: true, force: true });
});

/** better-sqlite3's addon: the workspace's build when the version is the same, else compiled. */
async function provideSqliteAddon(app: string): Promise<void> {
  const installed = join(app, 'node_modules', 'better-sqlite3');
  const workspace = dirname(
    createRequire(join(root, 'packages', 'storage', 'package.json')).resolve('better-sqlite3/package.json'),
  );
  const version = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  if (version(installed) !== version(workspace)) {
    console.log(`consumer: better-sqlite3 ${version(installed)} differs from the workspace's; compiling it`);
    expectSuccess(await run('npm', ['rebuild', 'better-sqlite3'], app), 'npm rebuild better-sqlite3');
    return;
  }
  mkdirSync(join(installed, 'build', 'Release'), { recursive: true });
  copyFileSync(
    join(workspace, 'build', 'Release', 'better_sqlite3.node'),
    join(installed, 'build', 'Release', 'better_sqlite3.node'),
  );
}

describe('the packed packages in an outside project', () => {
  it('install only what is used: optional stores and features are not pulled in', () => {
    const modules = join(project, 'app', 'node_modules');
    for (const name of ['better-sqlite3', 'sharedb', 'ws', '@msgpack/msgpack'])
      expect(existsSync(join(modules, name)), `${name} is installed`).toBe(true);
    for (const name of [
      'mongodb',
      'sharedb-mongo',
      'sharedb-milestone-mongo',
      'pg',
      'redis',
      'sharedb-redis-pubsub',
      'pino',
      'vitest',
    ])
      expect(existsSync(join(modules, name)), `${name} was installed but nothing needs it`).toBe(false);
  });

  it(
    'pass publint (strict) and attw for every tarball',
    async () => {
      const bin = (name: string) => join(root, 'node_modules', '.bin', name);
      const checks = await twoAtATime(
        Object.values(tarballs).flatMap((file) => {
          const tarball = join(project, 'packs', file);
          return [
            () =>
              run(bin('publint'), ['run', '--strict', tarball], project).then((r) => ({
                r,
                what: `publint ${file}`,
              })),
            () =>
              run(bin('attw'), [tarball, '--format', 'ascii'], project).then((r) => ({
                r,
                what: `attw ${file}`,
              })),
          ];
        }),
      );
      for (const { r, what } of checks) expectSuccess(r, what);
    },
    SLOW_STEP_MS,
  );

  it(
    'type-check a strict host app (skipLibCheck off) under node16, bundler, and a browser page without @types/node',
    async () => {
      const tsc = require.resolve('typescript/bin/tsc');
      const app = join(project, 'app');
      const results = await twoAtATime(
        ['node16', 'bundler', 'browser'].map(
          (flavour) => () =>
            run(process.execPath, [tsc, '-p', `tsconfig.${flavour}.json`], app).then((r) => ({ r, flavour })),
        ),
      );
      for (const { r, flavour } of results) expectSuccess(r, `tsc ${flavour}`);
    },
    SLOW_STEP_MS,
  );

  it(
    'run the host app as ESM and as CJS: two Node clients converge; missing optional packages are named',
    async () => {
      const app = join(project, 'app');
      for (const format of ['esm', 'cjs'] as const) {
        const out = join(app, format === 'esm' ? 'host.mjs' : 'host.cjs');
        // Transpiled, not bundled: every @tandem import stays an import() / require() of the package.
        await esbuild.build({ entryPoints: [join(app, 'host.ts')], outfile: out, format, platform: 'node' });
        const source = readFileSync(out, 'utf8');
        expect(source).toContain(format === 'esm' ? 'from "@tandem/server"' : 'require("@tandem/server")');
        const result = await run(process.execPath, [out], app);
        expectSuccess(result, `node ${out}`);
        const line = result.stdout.split('\n').find((l) => l.startsWith('RESULT '));
        expect(JSON.parse(line?.slice('RESULT '.length) ?? 'null'), format).toEqual({
          converged: true,
          text: expect.stringMatching(/^(from a from b |from b from a )$/),
          typeName: 'json1',
          conflictsReserved: true,
          canonical: '{"a":[2],"b":1}',
          createTwice: 'ALREADY_EXISTS',
          comment: { quote: 'from', seen: ['@ben look'], notified: ['mention'] },
          mongoMissing: 'mongodb',
          pgMissing: 'pg',
          redisMissing: 'redis',
          dataDir: join(app, 'data'),
        });
        expect(existsSync(join(app, 'data', 'tandem.db')), 'the SQLite default store').toBe(true);
      }
    },
    SLOW_STEP_MS,
  );

  it.skipIf(!browsers)(
    'bundle the client for browsers with esbuild and vite (no polyfills); two Chromium pages converge',
    async () => {
      const app = join(project, 'app');
      const web = join(app, 'web');
      await esbuild.build({
        entryPoints: [join(app, 'page.ts')],
        outfile: join(web, 'esbuild', 'page.js'),
        bundle: true,
        format: 'esm',
        platform: 'browser',
        minify: true,
        logLevel: 'silent',
      });
      writeFileSync(
        join(web, 'esbuild', 'index.html'),
        '<!doctype html><meta charset="utf-8"><script type="module" src="./page.js"></script>',
      );
      const warnings: string[] = [];
      await viteBuild({
        root: app,
        base: '/vite/',
        logLevel: 'silent',
        configFile: false,
        build: {
          outDir: join(web, 'vite'),
          rollupOptions: { onwarn: (warning) => void warnings.push(String(warning.message)) },
        },
      });
      // Vite replaces Node built-ins it cannot bundle with an empty module and only warns.
      const viteAssets = readdirSync(join(web, 'vite', 'assets'));
      const viteJs = viteAssets
        .filter((f) => f.endsWith('.js'))
        .map((f) => readFileSync(join(web, 'vite', 'assets', f), 'utf8'));
      expect(viteJs.join('')).not.toContain('__vite-browser-external');
      expect(warnings.filter((w) => /externalized|polyfill|browser compatibility/i.test(w))).toEqual([]);

      const host = spawn(process.execPath, [join(app, 'host.mjs'), 'serve'], {
        cwd: app,
        env: { ...process.env, CONSUMER_WEB: web },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          host.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const match = /READY (\S+)/.exec(out);
            if (match) resolve(match[1].replace('ws://', 'http://').replace(/\/tandem$/, ''));
          });
          host.on('exit', (code) => reject(new Error(`host exited with ${code}`)));
        });
        const browser = await launchChromium();
        try {
          const pages = await Promise.all(
            ['esbuild', 'vite'].map(async (bundler) => {
              const page = await (await browser.newContext()).newPage();
              const errors: string[] = [];
              page.on('pageerror', (error) => errors.push(error.message));
              await page.goto(`${url}/${bundler}/index.html?name=${bundler}`);
              await page
                .waitForFunction(() => 'tandem' in window, undefined, { timeout: 15_000 })
                .catch((error: unknown) => {
                  throw new Error(`${bundler} page did not start: ${errors.join('; ')} ${String(error)}`);
                });
              return { page, bundler };
            }),
          );
          type PageApi = { tandem: { value(): string; append(s: string): Promise<void> } };
          await Promise.all(
            pages.map(({ page, bundler }) =>
              page.evaluate((s) => (window as unknown as PageApi).tandem.append(s), `[${bundler}]`),
            ),
          );
          for (const { page } of pages)
            await page.waitForFunction(
              () => {
                const v = (window as unknown as PageApi).tandem.value();
                return v.includes('[esbuild]') && v.includes('[vite]');
              },
              undefined,
              { timeout: 15_000 },
            );
          const values = await Promise.all(
            pages.map(({ page }) => page.evaluate(() => (window as unknown as PageApi).tandem.value())),
          );
          expect(values[0]).toBe(values[1]);
        } finally {
          await browser.close();
        }
      } finally {
        host.kill('SIGTERM');
      }
    },
    SLOW_STEP_MS,
  );
});
