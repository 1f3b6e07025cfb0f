// A TCP proxy the test owns, in front of a service (Redis, PostgreSQL), that can misbehave on cue:
//   hold()/release(): requests still reach the service at once, its replies wait until release().
//     That is how a test keeps a Redis UNSUBSCRIBE in flight for as long as it needs, instead of
//     hoping a race happens.
//   block()/unblock(): every connection through it is reset, and new ones are reset as they come,
//     until unblock() (the service looks gone: a network cut, a restart, killed sessions).
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** Where it listens. */
  host: string;
  port: number;
  /** Hold every reply from the service until release(). */
  hold(): void;
  release(): void;
  /** Reset every connection, and each new one, until unblock(). */
  block(): void;
  unblock(): void;
  /** Connections reset by block() so far (open ones and refused new ones). */
  readonly resets: number;
  /** Everything clients sent so far (latin1 text), to wait for a command to have gone out. */
  sent(): string;
  close(): Promise<void>;
}

export async function tcpProxy(
  target: { host?: string; port: number },
  listenHost = '127.0.0.1',
): Promise<TcpProxy> {
  let holding = false;
  let blocked = false;
  let resets = 0;
  let sent = '';
  const held: { to: Socket; data: Buffer }[] = [];
  /** Client sockets, each with its upstream. */
  const pairs = new Map<Socket, Socket>();
  const reset = (client: Socket) => {
    resets++;
    pairs.get(client)?.destroy();
    pairs.delete(client);
    client.resetAndDestroy();
  };
  const server = createServer((client) => {
    client.on('error', () => {});
    if (blocked) return reset(client);
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    pairs.set(client, upstream);
    client.on('data', (data) => {
      sent += data.toString('latin1');
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (holding) held.push({ to: client, data });
      else client.write(data);
    });
    const end = () => {
      pairs.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  const address = server.address() as { port: number };
  return {
    host: listenHost,
    port: address.port,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const { to, data } of held.splice(0)) to.write(data);
    },
    block: () => {
      blocked = true;
      for (const client of [...pairs.keys()]) reset(client);
    },
    unblock: () => {
      blocked = false;
    },
    get resets() {
      return resets;
    },
    sent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const [client, upstream] of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

/** A proxy in front of the machine's Redis, with its `redis://` URL. */
export async function redisProxy(port = 6379): Promise<TcpProxy & { url: string }> {
  const proxy = await tcpProxy({ port });
  return Object.assign(proxy, { url: `redis://${proxy.host}:${proxy.port}` });
}

export type RedisProxy = Awaited<ReturnType<typeof redisProxy>>;
