import { setTimeout as delay } from 'node:timers/promises';
import { describeError } from '../errors/index.js';
import { WaitTimeoutError } from './errors.js';

/** What one poll of {@link waitFor} saw: done with a value, or not yet (with what was seen). */
export type Poll<T> = { done: true; value: T } | { done: false; observed?: string };

/**
 * Polls `check` until it reports done, or throws {@link WaitTimeoutError} at the
 * deadline with the last observation. A thrown error counts as "not yet" (the server may
 * still be coming up) unless `fatal` says it cannot get better. Polling, unlike a fixed
 * sleep, returns as soon as the condition holds.
 *
 * @example
 * ```ts
 * await waitFor('namespace default', 30_000, async () => ((await exists()) ? { done: true, value: undefined } : { done: false }));
 * ```
 */
export async function waitFor<T>(
  waitingFor: string,
  timeoutMs: number,
  check: () => Promise<Poll<T>>,
  options: {
    /** The first pause between polls. */
    intervalMs?: number;
    /** Later pauses grow by half up to this. Default 250 ms. */
    maxIntervalMs?: number;
    /** Errors that end the wait at once instead of counting as "not yet". */
    fatal?: (err: unknown) => boolean;
    /** Ends the wait with its rejection (e.g. the awaited process exited). */
    abort?: Promise<never>;
  } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let intervalMs = options.intervalMs ?? 50;
  let observed: string | undefined;
  for (;;) {
    try {
      const poll = await (options.abort ? Promise.race([check(), options.abort]) : check());
      if (poll.done) return poll.value;
      observed = poll.observed ?? observed;
    } catch (err) {
      if (options.fatal?.(err)) throw err;
      observed = describeError(err);
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(waitingFor, timeoutMs, observed);
    // Back off gently: fast for quick conditions, without hammering a slow server.
    const pause = delay(Math.min(intervalMs, left));
    intervalMs = Math.max(Math.min(intervalMs * 1.5, options.maxIntervalMs ?? 250), options.intervalMs ?? 0);
    await (options.abort ? Promise.race([pause, options.abort]) : pause);
  }
}
