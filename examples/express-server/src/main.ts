import { startDemo } from './app';

const demo = await startDemo({
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST ?? '127.0.0.1',
});
console.log(`Tandem demo running at ${demo.url} (open it in two windows)`);

const stop = () => {
  demo.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
