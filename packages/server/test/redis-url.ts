/** The Redis every test uses (the machine's, unless REDIS_URL names another). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
