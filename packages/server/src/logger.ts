/** The server's logger is @tandem/protocol's (one definition for every package). */
export { type Logger, silentLogger } from '@tandem/protocol';
