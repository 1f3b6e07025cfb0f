// Hosts on this machine, built from network namespaces: each host is a namespace with two links, one
// to a "front" network (clients, and the store's gate) and one to a "redis" network. Both networks
// are bridges in the test's own (root) namespace, which holds the address .254 on each: the test's
// clients, Redis and the store gate live there, so nothing routes and no sysctl is touched.
//
//   root ns: bridge <id>F 10.a.b.254/24 ──veth── host n: front 10.a.b.n
//            bridge <id>R 10.a.c.254/24 ──veth── host n: redis 10.a.c.n
//
// Names carry a per-run id, subnets are picked free of every route the machine has, and close()
// removes everything (deleting a namespace deletes its veths). Needs root (CAP_NET_ADMIN).
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

const ip = (args: string[]) => run('ip', args).then(() => {});

/** Why namespaces cannot be made here (undefined: they can), found by making and removing one. */
export function namespacesUnavailable(): string | undefined {
  const probe = `tandem-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `cannot create network namespaces (${stderr || (error as Error).message})`;
  }
  try {
    execFileSync('ip', ['netns', 'exec', probe, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot enter network namespaces (${(error as Error).message})`;
  } finally {
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  }
}

export interface Host {
  /** 1-based. */
  index: number;
  /** The namespace (`ip netns exec <ns> …`). */
  ns: string;
  /** Its address on the front network (clients connect here). */
  address: string;
}

export interface Network {
  hosts: Host[];
  /** The root namespace's address on the front network (the store gate listens here). */
  frontGateway: string;
  /** The root namespace's address on the redis network (Redis listens here). */
  redisGateway: string;
  /** Cut host n's link to the redis network (its switch port goes down: packets vanish), or mend it. */
  redisLink(host: Host, up: boolean): Promise<void>;
  close(): Promise<void>;
}

type Prefix = { base: number; bits: number };

function parse(cidr: string): Prefix | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(cidr);
  if (match === null) return undefined;
  const [a, b, c, d] = match.slice(1, 5).map(Number);
  return { base: ((a << 24) | (b << 16) | (c << 8) | d) >>> 0, bits: Number(match[5] ?? 32) };
}

function overlaps(x: Prefix, y: Prefix): boolean {
  const bits = Math.min(x.bits, y.bits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (x.base & mask) === (y.base & mask);
}

/** Two /24s in 10.0.0.0/8 that no route of this machine's (root namespace) touches. */
async function freeSubnets(): Promise<[string, string]> {
  const { stdout } = await run('ip', ['-4', 'route', 'show', 'table', 'all']);
  const taken = stdout
    .split('\n')
    .map((line) => line.split(' ').find((word) => parse(word) !== undefined))
    .filter((word): word is string => word !== undefined)
    .map((word) => parse(word) as Prefix);
  for (let tries = 0; tries < 1_000; tries++) {
    const a = 16 + Math.floor(Math.random() * 200);
    const b = Math.floor(Math.random() * 127) * 2;
    const front = `10.${a}.${b}`;
    const redis = `10.${a}.${b + 1}`;
    const free = [front, redis].every((net) => {
      const p = parse(`${net}.0/24`) as Prefix;
      return !taken.some((t) => overlaps(p, t));
    });
    if (free) return [front, redis];
  }
  throw new Error('no free 10.x.y.0/24 pair for the test networks');
}

/** Build `count` hosts. On a failure half-way, what was made is removed before the error is thrown. */
export async function buildNetwork(count: number): Promise<Network> {
  const id = `th${randomBytes(3).toString('hex')}`;
  const [front, redis] = await freeSubnets();
  const frontBridge = `${id}F`;
  const redisBridge = `${id}R`;
  const hosts: Host[] = [];
  const made: { bridges: string[]; namespaces: string[] } = { bridges: [], namespaces: [] };

  // Deleting a namespace deletes the veths in it, and so their peers on the bridges.
  const commands = () => [
    ...made.namespaces.splice(0).map((ns) => ['netns', 'del', ns]),
    ...made.bridges.splice(0).map((bridge) => ['link', 'del', bridge]),
  ];
  // A test process that exits without its afterAll still removes what it made.
  const orphaned = () => {
    for (const args of commands()) {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {}
    }
  };
  process.once('exit', orphaned);
  const close = async () => {
    process.off('exit', orphaned);
    for (const args of commands()) await ip(args).catch(() => {});
  };

  try {
    for (const [bridge, net] of [
      [frontBridge, front],
      [redisBridge, redis],
    ]) {
      await ip(['link', 'add', bridge, 'type', 'bridge']);
      made.bridges.push(bridge);
      await ip(['addr', 'add', `${net}.254/24`, 'dev', bridge]);
      await ip(['link', 'set', bridge, 'up']);
    }
    for (let n = 1; n <= count; n++) {
      const ns = `tandem-hosts-${id}-h${n}`;
      await ip(['netns', 'add', ns]);
      made.namespaces.push(ns);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      for (const [name, bridge, net] of [
        ['front', frontBridge, front],
        ['redis', redisBridge, redis],
      ]) {
        // The root end is named after the bridge and host (`<id>f1`); the host's end is `front`/`redis`.
        const outside = `${id}${name[0]}${n}`;
        await ip(['link', 'add', outside, 'type', 'veth', 'peer', 'name', name, 'netns', ns]);
        await ip(['link', 'set', outside, 'master', bridge]);
        await ip(['link', 'set', outside, 'up']);
        await ip(['-n', ns, 'addr', 'add', `${net}.${n}/24`, 'dev', name]);
        await ip(['-n', ns, 'link', 'set', name, 'up']);
      }
      hosts.push({ index: n, ns, address: `${front}.${n}` });
    }
  } catch (error) {
    await close();
    throw error;
  }

  return {
    hosts,
    frontGateway: `${front}.254`,
    redisGateway: `${redis}.254`,
    redisLink: (host, up) => ip(['link', 'set', `${id}r${host.index}`, up ? 'up' : 'down']),
    close,
  };
}
