/** Collections Tandem keeps its own data in. Ordinary clients may neither read nor write them. */

/** Every reserved collection starts with this prefix, so new ones need no server change. */
export const RESERVED_PREFIX = '_tandem_';

export function isReservedCollection(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}
