import { Context, ContextKey } from '../context/index.js';

/**
 * The structured logger Maestro hands to reconcilers and uses itself. It is the subset
 * of pino's API that Maestro relies on, so a pino logger is a `Logger` as is; it is an
 * abstract class (not an interface) so that it can be a dependency-injection token.
 *
 * @example
 * ```ts
 * log.info({ replicas: 3 }, 'scaled');
 * log.child({ step: 'apply' }).debug('applying');
 * ```
 */
export abstract class Logger {
  abstract trace(fields: object, message?: string): void;
  abstract trace(message: string): void;
  abstract debug(fields: object, message?: string): void;
  abstract debug(message: string): void;
  abstract info(fields: object, message?: string): void;
  abstract info(message: string): void;
  abstract warn(fields: object, message?: string): void;
  abstract warn(message: string): void;
  abstract error(fields: object, message?: string): void;
  abstract error(message: string): void;
  /** A logger that adds `bindings` to every line. */
  abstract child(bindings: Record<string, unknown>): Logger;
}

class NoopLogger extends Logger {
  trace(): void {}
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(): void {}
  child(): Logger {
    return this;
  }
}

/** A logger that discards everything: the default when none is configured. */
export const noopLogger: Logger = new NoopLogger();

const LOGGER = new ContextKey<Logger>('maestro.logger');

/** A context that carries `logger` (see {@link loggerFrom}). */
export function withLogger(ctx: Context, logger: Logger): Context {
  return ctx.withValue(LOGGER, logger);
}

/**
 * The logger of the current reconcile (with its `controller`, `namespace`, `name` and
 * `reconcileID` fields when run by the operator), or the no-op logger.
 *
 * @example
 * ```ts
 * async reconcile(ctx: Context) { loggerFrom(ctx).info('reconciling'); return {}; }
 * ```
 */
export function loggerFrom(ctx: Context): Logger {
  return ctx.value(LOGGER) ?? noopLogger;
}
