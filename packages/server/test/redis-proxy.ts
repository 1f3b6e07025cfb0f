// A TCP proxy in front of the shared Redis that can hold Redis' replies: commands still reach Redis
// at once, their answers wait until `release()`. That is how a test keeps an UNSUBSCRIBE in flight
// for as long as it needs, instead of hoping a race happens.
import { connect, createServer, type Socket } from 'node:net';

export interface RedisProxy {
  url: string;
  /** Hold every reply from Redis until release(). */
  hold(): void;
  release(): void;
  /** Everything clients sent to Redis so far (RESP text), to wait for a command to have gone out. */
  sent(): string;
  close(): Promise<void>;
}

export async function redisProxy(port = 6379): Promise<RedisProxy> {
  let holding = false;
  let sent = '';
  const held: { to: Socket; data: Buffer }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (data) => {
      sent += data.toString('latin1');
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (holding) held.push({ to: client, data });
      else client.write(data);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${address.port}`,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const { to, data } of held.splice(0)) to.write(data);
    },
    sent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
