/** Cancels a timer set with {@link Clock.setTimer}; calling it after the timer fired is harmless. */
export type CancelTimer = () => void;

/**
 * The time source of a {@link WorkQueue} and its rate limiters (milliseconds). Only
 * differences between readings matter, so a monotonic clock is the right choice.
 *
 * `setTimer` is optional: a clock without it gets real timers, which suits clocks that
 * only shift `now()`. Tests that need to control when delayed keys become ready use a
 * clock that also owns its timers, such as {@link FakeClock}.
 *
 * @example
 * ```ts
 * const clock: Clock = { now: () => performance.now() };
 * const queue = new WorkQueue({ clock });
 * ```
 */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now. The timer must not keep the process alive. */
  setTimer?(callback: () => void, ms: number): CancelTimer;
}

// setTimeout fires at once (with a warning) for delays beyond a signed 32-bit int.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Sets a real timer that does not keep the process alive. Long delays fire early; callers re-check the time. */
export function setRealTimer(callback: () => void, ms: number): CancelTimer {
  const timer = setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_MS));
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * The default clock: `performance.now()` (monotonic, unaffected by wall-clock jumps)
 * and unref'd `setTimeout` timers.
 *
 * @example
 * ```ts
 * const started = realClock.now();
 * ```
 */
export const realClock: Required<Clock> = Object.freeze({
  now: () => performance.now(),
  setTimer: setRealTimer,
});

interface FakeTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A manual clock for tests: time moves only when {@link FakeClock.advance} is called,
 * which runs the timers that fall due, in order, synchronously.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * const queue = new WorkQueue({ clock });
 * queue.addAfter('default/web', 1_000);
 * clock.advance(1_000);
 * queue.len(); // 1
 * ```
 */
export class FakeClock implements Required<Clock> {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, ms: number): CancelTimer {
    const timer: FakeTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, running every timer due by then (also timers those timers set). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance needs ms >= 0, got ${ms}`);
    const target = this.#now + ms;
    for (;;) {
      const next = this.#nextDue(target);
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.at;
      next.callback();
    }
    this.#now = target;
  }

  /** Timers set and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  #nextDue(target: number): FakeTimer | undefined {
    let next: FakeTimer | undefined;
    for (const t of this.#timers) {
      if (t.cancelled || t.at > target) continue;
      if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t;
    }
    return next;
  }
}
