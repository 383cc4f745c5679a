/**
 * Terms: the lifecycle of an operator's controllers under leadership.
 *
 * @module
 */
import { ContextCanceledError, type Context } from '../context/index.js';
import { MaestroError, describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { realClock, setRealTimer, type CancelTimer, type Clock } from '../queue/index.js';
import type { Controller } from './controller.js';

/** The reason the context of reconciles in flight is cancelled when leadership is lost. */
export class LeadershipLostError extends MaestroError {
  readonly code = 'LeadershipLost';
  constructor() {
    super('leadership lost: another replica may reconcile now');
  }
}

/** Options of {@link Terms}. */
export interface TermsOptions {
  logger: Logger;
  /**
   * How long reconciles of a lost term may keep running after their context was
   * cancelled before {@link Terms.stuck} reports it (default 30 000 ms).
   */
  graceMs?: number;
  /** Time for that alarm (default: the real clock). */
  clock?: Clock;
}

interface Term {
  readonly ctx: Context;
  readonly cancel: (reason?: unknown) => void;
}

/**
 * Runs an operator's controllers in terms: a term begins when this replica leads (at once
 * without leader election) and ends when it stops leading or the operator stops.
 *
 * - {@link Terms.begin} starts every controller with a fresh queue (holding every cached
 *   parent) and the term's context.
 * - {@link Terms.lose} ends the term at once: no key is handed out any more and the
 *   context of every reconcile in flight is cancelled (their API requests abort); it
 *   resolves when every worker of the term has finished. The leader elector awaits it
 *   before competing for the Lease again, so a new term never overlaps an old one, and
 *   no key is ever worked on by two workers, across terms included.
 * - {@link Terms.stop} ends the term gracefully (shutdown).
 *
 * A reconciler that ignores its context's cancellation cannot be stopped in JavaScript:
 * while reconciles of a lost term still run `graceMs` after the loss, {@link Terms.stuck}
 * says so, and the Manager's `/healthz` fails, so the kubelet restarts the process.
 */
export class Terms {
  readonly #controllers: readonly Controller[];
  readonly #root: Context;
  readonly #log: Logger;
  readonly #graceMs: number;
  readonly #setTimer: (callback: () => void, ms: number) => CancelTimer;
  readonly #clock: Clock;
  #term: Term | undefined;
  /** Until every worker of the last lost term finished. */
  #ending: Promise<void> | undefined;
  #closed = false;
  #stuck: string | undefined;

  constructor(controllers: readonly Controller[], root: Context, options: TermsOptions) {
    this.#controllers = controllers;
    this.#root = root;
    this.#log = options.logger;
    this.#graceMs = options.graceMs ?? 30_000;
    this.#clock = options.clock ?? realClock;
    this.#setTimer = this.#clock.setTimer ? this.#clock.setTimer.bind(this.#clock) : setRealTimer;
  }

  /** Whether a term is running. */
  get active(): boolean {
    return this.#term !== undefined;
  }

  /** Why the process should be restarted (reconciles of a lost term outlived the grace period), if so. */
  get stuck(): string | undefined {
    return this.#stuck;
  }

  /**
   * Begins a term. Ignored while one runs, after {@link Terms.stop}, and (logged as an
   * error) while workers of a lost term still run: a term never overlaps another.
   */
  begin(): void {
    if (this.#closed || this.#term) return;
    if (this.#ending) {
      this.#log.error('cannot begin a term while reconciles of the previous one still run');
      return;
    }
    const [ctx, cancel] = this.#root.withCancel();
    this.#term = { ctx, cancel };
    for (const controller of this.#controllers) {
      try {
        controller.start(ctx);
      } catch (err) {
        // Cannot happen while terms are serialized; logged rather than thrown into the elector.
        this.#log.error({ err: describeError(err), controller: controller.name }, 'controller could not start');
      }
    }
  }

  /**
   * Ends the term at once (leadership lost); resolves when every worker has finished.
   * Nothing happens without a term.
   */
  async lose(): Promise<void> {
    const term = this.#term;
    if (!term) return;
    this.#term = undefined;
    const reason = new LeadershipLostError();
    // Synchronously, before anything else: no controller hands out a key, every in-flight context aborts.
    const finished = Promise.all(this.#controllers.map((c) => c.abort(reason))).then(() => undefined);
    this.#ending = finished;
    term.cancel(reason);
    const since = this.#clock.now();
    const alarm = this.#setTimer(() => {
      this.#stuck = `reconciles of a lost leadership term still running ${Math.round(this.#clock.now() - since)} ms after they were cancelled`;
      this.#log.error(this.#stuck);
    }, this.#graceMs);
    await finished;
    alarm();
    this.#stuck = undefined;
    this.#ending = undefined;
  }

  /**
   * Ends the term gracefully and for good (shutdown): no further key; reconciles in flight
   * may finish within `graceMs`, then they are cancelled. Resolves with whether they
   * finished in time. Later {@link Terms.begin} calls are ignored.
   */
  async stop(graceMs = this.#graceMs): Promise<boolean> {
    this.#closed = true;
    const term = this.#term;
    this.#term = undefined;
    const finished = await Promise.all(this.#controllers.map((c) => c.stop(graceMs)));
    term?.cancel(new ContextCanceledError({ cause: 'the operator is stopping' }));
    return finished.every(Boolean);
  }
}
