/**
 * Optional peer dependencies (the MongoDB store, Redis scale-out, …) are loaded on first use, so an
 * install carries only what the host configured. When one is missing the host gets INVALID_CONFIG
 * naming the package to install, not a module-resolution stack.
 */
import { ErrorCode, TandemError } from './errors';

function isMissing(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // Node ESM says "Cannot find package 'x'", CJS "Cannot find module 'x'"; a missing dependency of
  // the package itself names that dependency instead, and is rethrown as it is.
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${name}'`)
  );
}

/**
 * `load` imports the optional package `name` (a static `import('name')`, so bundlers and types see
 * it); `feature` says what needs it. Resolves to the module, or rejects with INVALID_CONFIG
 * `{ package, feature }` when the package is not installed.
 */
export async function optionalImport<T>(name: string, load: () => Promise<T>, feature: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    throw new TandemError(
      ErrorCode.INVALID_CONFIG,
      `${feature} needs the optional package ${name}: install it (npm install ${name})`,
      { package: name, feature },
      { cause: error },
    );
  }
}
