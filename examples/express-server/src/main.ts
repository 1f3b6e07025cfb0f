import { startDemo } from './app';

const demo = await startDemo({
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST ?? '127.0.0.1',
  secret: process.env.TANDEM_DEMO_SECRET,
});
console.log(`Tandem demo running at ${demo.url} (open it in two windows, signed in as two users)`);

const stop = () => {
  demo.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
