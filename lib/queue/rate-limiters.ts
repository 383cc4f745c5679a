import { realClock, type Clock } from './clock.js';
import { RateLimiterConfigurationError } from './errors.js';

/**
 * Decides how long a key waits before it is re-queued (client-go's `workqueue.RateLimiter`).
 * `when` is called once per retry and may record it; `forget` ends the tracking of a key
 * (after a success, or when giving up); `numRequeues` is how many retries it recorded.
 *
 * @example
 * ```ts
 * const limiter: RateLimiter<string> = new ExponentialFailureRateLimiter();
 * limiter.when('default/web'); // 5
 * limiter.when('default/web'); // 10
 * limiter.forget('default/web');
 * ```
 */
export interface RateLimiter<K> {
  /** The delay in milliseconds before `key` may be processed again. */
  when(key: K): number;
  /** Stops tracking `key`: its next failure starts from the base delay again. */
  forget(key: K): void;
  /** How many times `key` was rate limited since it was last forgotten. */
  numRequeues(key: K): number;
}

function requirePositive(value: number, what: string): void {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new RateLimiterConfigurationError(`${what} must be a number > 0, got ${String(value)}`);
  }
}

/**
 * Per-key exponential backoff: the n-th consecutive failure of a key waits
 * `baseDelayMs * 2^(n-1)`, capped at `maxDelayMs` (client-go's
 * `ItemExponentialFailureRateLimiter`). Defaults: 5 ms doubling up to 1000 s.
 *
 * @example
 * ```ts
 * const limiter = new ExponentialFailureRateLimiter<string>({ baseDelayMs: 100, maxDelayMs: 60_000 });
 * limiter.when('a'); // 100
 * limiter.when('a'); // 200
 * ```
 */
export class ExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly #failures = new Map<K, number>();

  constructor(options: { baseDelayMs?: number; maxDelayMs?: number } = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 1_000_000;
    requirePositive(this.baseDelayMs, 'baseDelayMs');
    requirePositive(this.maxDelayMs, 'maxDelayMs');
    if (this.maxDelayMs < this.baseDelayMs) {
      throw new RateLimiterConfigurationError(`maxDelayMs (${this.maxDelayMs}) must not be below baseDelayMs (${this.baseDelayMs})`);
    }
  }

  when(key: K): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2 ** failures overflows to Infinity after ~1000 failures; the cap handles that too.
    return Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs);
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket shared by all keys, with the semantics of Go's
 * `golang.org/x/time/rate.Limiter.Reserve` as used by client-go's `BucketRateLimiter`: the
 * bucket starts full with `burst` tokens and refills at `qps` per second; every `when`
 * takes a token, and when none is left returns how long until it would have been
 * refilled (tokens go negative, so successive calls are spaced `1000 / qps` ms apart).
 * Defaults: 10 qps, burst 100. It keeps no per-key state.
 *
 * @example
 * ```ts
 * const limiter = new BucketRateLimiter<string>({ qps: 10, burst: 100 });
 * // 100 calls return 0, then 100, 200, 300, ... until tokens refill.
 * ```
 */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  readonly qps: number;
  readonly burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(options: { qps?: number; burst?: number; clock?: Clock } = {}) {
    this.qps = options.qps ?? 10;
    this.burst = options.burst ?? 100;
    requirePositive(this.qps, 'qps');
    if (!Number.isInteger(this.burst) || this.burst < 1) {
      // x/time/rate never grants a reservation with burst 0 (its delay is infinite).
      throw new RateLimiterConfigurationError(`burst must be an integer >= 1, got ${String(this.burst)}`);
    }
    this.#clock = options.clock ?? realClock;
    this.#tokens = this.burst;
    this.#last = this.#clock.now();
  }

  when(_key: K): number {
    if (this.qps === Infinity) return 0;
    const now = this.#clock.now();
    // A clock that went backwards refills nothing (as x/time/rate's advance).
    const elapsed = Math.max(0, now - this.#last);
    const tokens = Math.min(this.burst, this.#tokens + (elapsed * this.qps) / 1000) - 1;
    this.#tokens = tokens;
    this.#last = now;
    return tokens < 0 ? (-tokens * 1000) / this.qps : 0;
  }

  forget(_key: K): void {}

  numRequeues(_key: K): number {
    return 0;
  }
}

/**
 * Combines limiters: `when` asks every one (so each records the retry) and returns the
 * longest delay; `numRequeues` is the largest count; `forget` forgets in all
 * (client-go's `MaxOfRateLimiter`).
 *
 * @example
 * ```ts
 * const limiter = new MaxOfRateLimiter<string>(
 *   new ExponentialFailureRateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000_000 }),
 *   new BucketRateLimiter({ qps: 10, burst: 100 }),
 * );
 * ```
 */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly limiters: ReadonlyArray<RateLimiter<K>>;

  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = [...limiters];
  }

  when(key: K): number {
    let delay = 0;
    for (const limiter of this.limiters) delay = Math.max(delay, limiter.when(key));
    return delay;
  }

  forget(key: K): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: K): number {
    let requeues = 0;
    for (const limiter of this.limiters) requeues = Math.max(requeues, limiter.numRequeues(key));
    return requeues;
  }
}

/**
 * The rate limiter controllers use by default (client-go's `DefaultControllerRateLimiter`):
 * per-key exponential backoff from 5 ms to 1000 s, and an overall bucket of 10 qps with a
 * burst of 100, whichever is slower. Pass a `clock` to drive the bucket in tests.
 *
 * @example
 * ```ts
 * const queue = new WorkQueue({ rateLimiter: defaultControllerRateLimiter() });
 * ```
 */
export function defaultControllerRateLimiter<K>(options: { clock?: Clock } = {}): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ExponentialFailureRateLimiter<K>({ baseDelayMs: 5, maxDelayMs: 1_000_000 }),
    new BucketRateLimiter<K>({ qps: 10, burst: 100, ...(options.clock ? { clock: options.clock } : {}) }),
  );
}
