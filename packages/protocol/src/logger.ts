/**
 * Library code never writes to the console: the host injects a logger (the one definition every
 * Tandem package uses; `console` and pino fit it).
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const nothing = (): void => {};

/** The default: drop everything. */
export const silentLogger: Logger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
