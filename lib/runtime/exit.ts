/**
 * Ending the process after the operator stopped.
 *
 * @module
 * @internal
 */

/**
 * Ends the process with `code` once its event loop is empty, or after `graceMs` if
 * something (a user's timer, a socket) still keeps it alive (calling `onStillBusy` first).
 *
 * Why not `process.exit` at once: it can deadlock in Node 22 to 24. The exiting main thread
 * joins V8's worker threads while one of them, compiling (Sparkplug, Maglev) and
 * allocating, waits for a garbage collection only the main thread can run
 * (nodejs/node#54918, #64274); with `--optimize-for-size`, 7 in 100 bundled operators
 * exiting just after start hung there. A process whose loop has drained shuts V8 down
 * before the worker threads, which ends such waits: 0 in 100
 * (test/cli/bundle.integration.test.ts runs it again and again).
 */
export function exitWhenDrained(code: number, graceMs = 2_000, onStillBusy?: () => void): void {
  process.exitCode = code;
  setTimeout(() => {
    onStillBusy?.();
    process.exit(code);
  }, graceMs).unref();
}
