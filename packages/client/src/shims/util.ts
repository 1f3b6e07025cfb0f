/**
 * `util` for ShareDB's client, bundled in place of Node's (see ../sharedb.ts): it only takes
 * `inherits`, with Node's semantics (prototype chain and `super_`).
 */
export function inherits(
  child: { prototype: object; super_?: unknown },
  parent: { prototype: object },
): void {
  Object.defineProperty(child, 'super_', { value: parent, writable: true, configurable: true });
  Object.setPrototypeOf(child.prototype, parent.prototype);
}

export default { inherits };
