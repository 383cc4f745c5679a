/**
 * The base class of every error Maestro throws. Each subclass has a stable `code`, so
 * callers can branch on `err.code` (or `instanceof`) instead of parsing messages.
 *
 * @example
 * ```ts
 * try { binder.fromContext(ctx); } catch (err) {
 *   if (err instanceof MaestroError && err.code === 'NotBound') { ... }
 * }
 * ```
 */
export abstract class MaestroError extends Error {
  /** A stable, machine-readable identifier of the error kind. */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Describes a thrown value for messages, whatever it is (errors are not always `Error`s in JS). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
