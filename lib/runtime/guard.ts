/**
 * The process guard: the last line of defence against errors nothing handled.
 *
 * @module
 */
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { UnhandledErrorMetrics, UnhandledErrorType } from '../metrics/index.js';

interface Guard {
  logger: Logger;
  metrics: UnhandledErrorMetrics;
}

const guards = new Set<Guard>();

/** Set by the first `exit` listener: the process is ending (`process.exit()` or an empty event loop). */
let exiting = false;

function caught(type: UnhandledErrorType, error: unknown): void {
  const stack = error instanceof Error ? error.stack : undefined;
  for (const guard of guards) {
    guard.metrics.caught(type);
    guard.logger.error({ err: describeError(error), stack, type },
      `${type === 'unhandled_rejection' ? 'unhandled promise rejection' : 'uncaught exception'}; ${exiting ? 'the process exits as it was ending' : 'the operator keeps running'} (a bug: please report it)`);
  }
  // An `exit` listener threw (in an async function, `process.exit()` then rejects):
  // swallowing it would cut `process.exit()` short and leave the process running after it
  // was told to end. Node ends it, with the exit code set or else 1; so does the guard.
  if (exiting) process.exit(process.exitCode ?? 1);
}

const onExit = (): void => {
  exiting = true;
};
const onRejection = (reason: unknown): void => caught('unhandled_rejection', reason);
const onException = (error: unknown): void => caught('uncaught_exception', error);

/**
 * Installs the process guard for one operator until the returned function is called: an
 * unhandled promise rejection or an uncaught exception is logged (with its stack) and
 * counted in `maestro_unhandled_errors_total{type}` instead of ending the process, as
 * Node does by default.
 *
 * Every path the runtime knows of handles its own failures; the guard is for the one
 * nobody foresaw (a library's stray promise, a user callback run on a timer), so that a
 * single bad event does not take every controller of the process down. It listens for the
 * whole process, so it also catches errors of code around the operator: alert on the
 * counter. One set of listeners serves every guarded operator of the process. An exception
 * thrown by an `exit` listener is logged and counted, and the process still ends.
 *
 * @example
 * ```ts
 * const unguard = guardProcess(logger, metrics.unhandledErrors());
 * // ... later, on stop:
 * unguard();
 * ```
 */
export function guardProcess(logger: Logger, metrics: UnhandledErrorMetrics): () => void {
  const guard: Guard = { logger, metrics };
  if (guards.size === 0) {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    // First, before any listener that may throw.
    process.prependListener('exit', onExit);
  }
  guards.add(guard);
  return () => {
    if (!guards.delete(guard) || guards.size > 0) return;
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    process.off('exit', onExit);
  };
}
