import { realClock, setRealTimer, type CancelTimer, type Clock } from './clock.js';
import { DelayHeap, Fifo } from './delay-heap.js';
import { InvalidDelayError } from './errors.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.js';

/**
 * What a {@link WorkQueue} reports, as the hooks it calls (client-go's queue metrics,
 * with the queue doing the timing so it follows the queue's clock). `Metrics.queue(name)`
 * from `lib/metrics` implements it with controller-runtime's `workqueue_*` metrics.
 *
 * Depth follows client-go: it counts keys waiting to be handed out, including a key
 * re-added while it is processed (it waits for `done`), and excludes delayed keys.
 *
 * @example
 * ```ts
 * const queue = new WorkQueue({ name: 'web', metrics: new Metrics().queue('web') });
 * ```
 */
export interface QueueMetrics {
  /** A key was added that was not already waiting (`workqueue_adds_total`). */
  add(): void;
  /** The number of waiting keys changed by `delta` (+1 or -1) (`workqueue_depth`). */
  depth(delta: number): void;
  /** Seconds a key waited between being added and handed out (`workqueue_queue_duration_seconds`). */
  queueDuration(seconds: number): void;
  /** Seconds between a key being handed out and `done` (`workqueue_work_duration_seconds`). */
  workDuration(seconds: number): void;
  /** A key was re-added through `addAfter`/`addRateLimited` (`workqueue_retries_total`). */
  retry(): void;
  /** Seconds of work in progress not yet observed by `workDuration`, summed over keys (`workqueue_unfinished_work_seconds`). */
  unfinishedWork(seconds: number): void;
  /** Seconds the longest-running key has been processed (`workqueue_longest_running_processor_seconds`). */
  longestRunningProcessor(seconds: number): void;
}

/** Options of a {@link WorkQueue}. */
export interface WorkQueueOptions<K> {
  /** The queue's name, for logs and metrics. Default `''`. */
  name?: string;
  /** Decides `addRateLimited` delays. Default {@link defaultControllerRateLimiter}. */
  rateLimiter?: RateLimiter<K>;
  /** Receives the queue's metrics. Default: none. */
  metrics?: QueueMetrics;
  /** Time source (milliseconds) and timers. Default: `performance.now()` with unref'd timers. */
  clock?: Clock;
}

// How often unfinished-work gauges are refreshed while keys are processed (client-go's period).
const UNFINISHED_WORK_UPDATE_MS = 500;

/**
 * A rate-limited work queue with the semantics of client-go's `workqueue`, the queue of
 * every controller: keys (e.g. `"namespace/name"`, compared with `===`) are handed to
 * workers in FIFO order, and
 * - a key waiting in the queue is not queued twice (adds are de-duplicated);
 * - a key handed out is "processing" until `done(key)`; it is never handed out again
 *   meanwhile, so two workers never reconcile the same object at once; if it is added
 *   while processing, it is queued again when `done` is called;
 * - `addAfter` adds a key later, on a timer that does not keep the process alive; when
 *   a key is already scheduled, the earlier time wins;
 * - `addRateLimited` adds a key after the delay its rate limiter chooses (exponential
 *   backoff by default), and `forget` resets that backoff after a success.
 *
 * After `shutDown`, adds are ignored, delayed keys are dropped, and `get` still hands out
 * keys already waiting, then resolves `undefined`.
 *
 * @example
 * ```ts
 * const queue = new WorkQueue<string>({ name: 'web' });
 * queue.add('default/web');
 * for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
 *   try {
 *     await reconcile(key);
 *     queue.forget(key);
 *   } catch {
 *     queue.addRateLimited(key);
 *   } finally {
 *     queue.done(key);
 *   }
 * }
 * ```
 */
export class WorkQueue<K = string> {
  /** The queue's name, for logs and metrics. */
  readonly name: string;
  readonly #rateLimiter: RateLimiter<K>;
  readonly #metrics: QueueMetrics | undefined;
  readonly #clock: Clock;
  readonly #setTimer: (callback: () => void, ms: number) => CancelTimer;

  /** Keys to hand out, in order. Each is dirty and not processing. */
  readonly #queue = new Fifo<K>();
  /** Keys that need processing: those in #queue, and processing keys added again. */
  readonly #dirty = new Set<K>();
  /** Keys handed out and not yet done. */
  readonly #processing = new Set<K>();
  /** Pending `get` calls; only non-empty while #queue is empty. */
  readonly #waiters = new Fifo<(key: K | undefined) => void>();
  /** Pending `shutDownWithDrain` calls. */
  #drainers: Array<() => void> = [];
  #shuttingDown = false;

  readonly #delayed = new DelayHeap<K>();
  #delayTimer: CancelTimer | undefined;
  #delayTimerAt = NaN;

  // Metrics bookkeeping, kept only when metrics are reported.
  readonly #addedAt = new Map<K, number>();
  readonly #startedAt = new Map<K, number>();
  #unfinishedTimer: CancelTimer | undefined;

  constructor(options: WorkQueueOptions<K> = {}) {
    this.name = options.name ?? '';
    this.#clock = options.clock ?? realClock;
    this.#setTimer = this.#clock.setTimer ? this.#clock.setTimer.bind(this.#clock) : setRealTimer;
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<K>({ clock: this.#clock });
    this.#metrics = options.metrics;
  }

  /** True once `shutDown` or `shutDownWithDrain` was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Marks `key` as needing processing. Ignored when it is already waiting, or after shut-down. */
  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#metrics) {
      this.#metrics.add();
      this.#metrics.depth(1);
      if (!this.#addedAt.has(key)) this.#addedAt.set(key, this.#clock.now());
    }
    // A processing key is queued by done(), so no two workers ever hold it.
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#serveWaiters();
  }

  /**
   * Adds `key` after `ms` milliseconds (at once when `ms <= 0`). If `key` is already
   * scheduled, it keeps the earlier of the two times. Ignored after shut-down.
   */
  addAfter(key: K, ms: number): void {
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms === Infinity) throw new InvalidDelayError(ms);
    if (this.#shuttingDown) return;
    this.#metrics?.retry();
    if (ms <= 0) {
      this.add(key);
      return;
    }
    this.#delayed.schedule(key, this.#clock.now() + ms);
    this.#armDelayTimer();
  }

  /** Adds `key` after the delay the rate limiter chooses for it (and records the retry there). */
  addRateLimited(key: K): void {
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Resets the rate limiter's backoff for `key`: call it when `key` was processed successfully. */
  forget(key: K): void {
    this.#rateLimiter.forget(key);
  }

  /** How many times `key` was rate limited since it was last forgotten. */
  numRequeues(key: K): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting until there is one. The key stays "processing" until
   * `done(key)`. Resolves `undefined` once the queue is shut down and no key is waiting.
   */
  get(): Promise<K | undefined> {
    if (this.#queue.length > 0) return Promise.resolve(this.#take());
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Marks `key` as processed. If it was added again meanwhile, it is queued again now.
   * Ignored for a key that is not processing.
   */
  done(key: K): void {
    if (!this.#processing.delete(key)) return;
    if (this.#metrics) {
      const started = this.#startedAt.get(key);
      this.#startedAt.delete(key);
      if (started !== undefined) this.#metrics.workDuration(this.#secondsSince(started));
    }
    if (this.#dirty.has(key)) {
      this.#queue.push(key);
      this.#serveWaiters();
    }
    if (this.#processing.size === 0) this.#releaseDrainers();
  }

  /** The number of keys waiting to be handed out (not processing, not delayed). */
  len(): number {
    return this.#queue.length;
  }

  /**
   * Stops accepting keys and drops delayed ones; pending `get` calls resolve `undefined`.
   * Keys already waiting are still handed out by later `get` calls. Also ends a pending
   * `shutDownWithDrain` without waiting for processing keys.
   */
  shutDown(): void {
    this.#beginShutDown();
    this.#releaseDrainers();
  }

  /**
   * Like `shutDown`, then waits until every processing key is `done`. Workers must keep
   * calling `done`, or this never resolves (`shutDown` ends the wait).
   */
  shutDownWithDrain(): Promise<void> {
    this.#beginShutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainers.push(resolve));
  }

  #take(): K {
    const key = this.#queue.shift()!;
    this.#dirty.delete(key);
    this.#processing.add(key);
    if (this.#metrics) {
      const now = this.#clock.now();
      this.#metrics.depth(-1);
      const added = this.#addedAt.get(key);
      this.#addedAt.delete(key);
      if (added !== undefined) this.#metrics.queueDuration(Math.max(0, now - added) / 1000);
      this.#startedAt.set(key, now);
      this.#startUnfinishedWorkUpdates();
    }
    return key;
  }

  #serveWaiters(): void {
    while (this.#waiters.length > 0 && this.#queue.length > 0) {
      this.#waiters.shift()!(this.#take());
    }
  }

  #beginShutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#delayed.clear();
    this.#delayTimer?.();
    this.#delayTimer = undefined;
    this.#unfinishedTimer?.();
    this.#unfinishedTimer = undefined;
    // Waiters only exist while the queue is empty, so there is nothing left for them.
    while (this.#waiters.length > 0) this.#waiters.shift()!(undefined);
  }

  #releaseDrainers(): void {
    const drainers = this.#drainers;
    this.#drainers = [];
    for (const resolve of drainers) resolve();
  }

  /** Keeps one timer, set for the first delayed key; re-armed whenever that changes. */
  #armDelayTimer(): void {
    const head = this.#delayed.peek();
    if (head && this.#delayTimer && this.#delayTimerAt === head.readyAt) return;
    this.#delayTimer?.();
    this.#delayTimer = undefined;
    if (!head) return;
    this.#delayTimerAt = head.readyAt;
    this.#delayTimer = this.#setTimer(() => this.#onDelayTimer(), head.readyAt - this.#clock.now());
  }

  #onDelayTimer(): void {
    this.#delayTimer = undefined;
    if (this.#shuttingDown) return;
    // Timers may fire a little early or late; the clock decides what is due.
    const now = this.#clock.now();
    for (let head = this.#delayed.peek(); head && head.readyAt <= now; head = this.#delayed.peek()) {
      this.#delayed.pop();
      this.add(head.key);
    }
    this.#armDelayTimer();
  }

  #startUnfinishedWorkUpdates(): void {
    if (this.#unfinishedTimer || this.#shuttingDown) return;
    this.#unfinishedTimer = this.#setTimer(() => this.#updateUnfinishedWork(), UNFINISHED_WORK_UPDATE_MS);
  }

  /** Runs every 500 ms while keys are processing, and once more to report zero after. */
  #updateUnfinishedWork(): void {
    this.#unfinishedTimer = undefined;
    if (!this.#metrics || this.#shuttingDown) return;
    const now = this.#clock.now();
    let total = 0;
    let longest = 0;
    for (const started of this.#startedAt.values()) {
      const seconds = Math.max(0, now - started) / 1000;
      total += seconds;
      longest = Math.max(longest, seconds);
    }
    this.#metrics.unfinishedWork(total);
    this.#metrics.longestRunningProcessor(longest);
    if (this.#startedAt.size > 0) this.#startUnfinishedWorkUpdates();
  }

  #secondsSince(start: number): number {
    return Math.max(0, this.#clock.now() - start) / 1000;
  }
}
