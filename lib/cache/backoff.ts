/**
 * The reconnect backoff of informers (client-go's reflector: 800 ms doubling to 30 s, with
 * jitter so that many informers reconnecting after an API server restart spread out).
 *
 * @example
 * ```ts
 * const backoff = new Backoff();
 * await sleep(backoff.next()); // 800-1600 ms, then 1.6-3.2 s, ... never more than 30 s
 * backoff.reset();             // after a healthy watch
 * ```
 */
export class Backoff {
  #step = 0;

  constructor(
    private readonly initialMs = 800,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay: `d × [1, 2)` where `d` doubles from `initialMs` up to `maxMs / 2`. */
  next(): number {
    const base = Math.min(this.maxMs / 2, this.initialMs * 2 ** this.#step);
    if (base < this.maxMs / 2) this.#step++;
    return Math.min(this.maxMs, Math.round(base * (1 + this.random())));
  }

  /** Starts over from `initialMs`. */
  reset(): void {
    this.#step = 0;
  }
}
