import { waitFor } from './wait.js';

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** Deadline in milliseconds. Default 30000. */
  timeoutMs?: number;
  /** Pause between polls in milliseconds. Default 100. */
  intervalMs?: number;
  /** What is awaited, for the timeout's message. Default `condition`. */
  message?: string;
}

/**
 * Polls `probe` until it returns something other than `undefined` or `false` without
 * throwing, and resolves with that value: the way integration tests wait for a controller
 * to act, instead of sleeping. At the deadline it throws {@link WaitTimeoutError} with
 * the last error or value seen.
 *
 * @example
 * ```ts
 * const rs = await eventually(async () => (await apps.listNamespacedReplicaSet({ namespace })).items[0], {
 *   message: 'a ReplicaSet for the Deployment',
 * });
 * ```
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: EventuallyOptions = {},
): Promise<T> {
  const intervalMs = options.intervalMs ?? 100;
  return waitFor(options.message ?? 'condition', options.timeoutMs ?? 30_000, async () => {
    const value = await probe();
    return value === undefined || value === false ? { done: false, observed: `returned ${String(value)}` } : { done: true, value };
  }, { intervalMs, maxIntervalMs: intervalMs });
}
