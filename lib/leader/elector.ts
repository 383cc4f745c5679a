import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import { ApiTransport } from '../client/transport.js';
import { isAlreadyExists, isConflict, isForbidden, isNotFound } from '../client/errors.js';
import { describeError } from '../errors/index.js';
import { noopLogger, type Logger } from '../log/index.js';
import type { LeaderElectionMetrics } from '../metrics/index.js';
import { realClock, type CancelTimer, type Clock } from '../queue/index.js';
import { setRealTimer } from '../queue/clock.js';
import { LeaderElectorReuseError, LeaseForbiddenError } from './errors.js';
import { LeaseLock } from './lease-lock.js';
import { resolveOptions, type LeaderElectionOptions, type ResolvedLeaderElectionOptions } from './options.js';
import { isLeaseValid, jittered, JITTER_FACTOR, recordFromLease, recordKey, type LeaderElectionRecord } from './record.js';

/**
 * What a {@link LeaderElector} tells its owner. Callbacks run on the elector's loop; one
 * that throws (or rejects) is logged and does not stop the election.
 *
 * @example
 * ```ts
 * const callbacks: LeaderCallbacks = {
 *   onStartedLeading: () => controllers.start(),
 *   onStoppedLeading: () => controllers.stop(),
 *   onNewLeader: (id) => log.info({ leader: id }, 'new leader'),
 * };
 * ```
 */
export interface LeaderCallbacks {
  /** Called each time this candidate acquires the Lease. */
  onStartedLeading(): void;
  /**
   * Called each time this candidate stops leading: its renewals failed for
   * `renewDeadlineMs`, another holder took the Lease, or `stop()` was called while leading.
   * If it returns a promise, the elector waits for it before it releases the Lease (on
   * `stop()`) or competes again (after a loss), so work guarded by the Lease can finish
   * before a successor may start.
   */
  onStoppedLeading(): void | Promise<void>;
  /** Called when the observed holder changes to a non-empty identity (this candidate's too), including the first one seen. */
  onNewLeader?(identity: string): void;
}

/**
 * Collaborators of a {@link LeaderElector}; all optional.
 *
 * @example
 * ```ts
 * const deps: LeaderElectorDeps = { logger, metrics: new Metrics().leaderElection('web-operator-lock') };
 * ```
 */
export interface LeaderElectorDeps {
  /** Receives the election's log lines. Default: discard. */
  logger?: Logger;
  /** Reports `leader_election_master_status` (from `Metrics.leaderElection(name)`). Default: none. */
  metrics?: LeaderElectionMetrics;
  /**
   * Monotonic milliseconds and timers for expiry, deadlines and pauses. Default
   * `performance.now()` with unref'd timers. Timestamps written to the Lease always come
   * from the wall clock (`Date.now()`).
   */
  clock?: Clock;
}

/** What one attempt to acquire or renew found. */
type Attempt =
  | 'ok' // this candidate holds the Lease, freshly written
  | 'held' // another candidate validly holds it
  | 'failed'; // unknown: the API failed, or another candidate won the race to write

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics
 * (`tools/leaderelection`), so Maestro replicas and Go controllers can share a Lease:
 *
 * - A candidate takes the Lease when it is missing (creating it), free (empty holder),
 *   held by itself, or expired. Expiry is judged by the candidate's own clock: a Lease
 *   is expired when it has not changed for its `leaseDurationSeconds` since this
 *   candidate last saw it change, whatever its `renewTime` says, so clock skew between
 *   machines does not matter (only their clock *rates*).
 * - Writes are conditional on the last `resourceVersion` seen, so of two candidates
 *   racing for an expired Lease exactly one wins (the other gets a 409).
 * - Taking the Lease from another holder (or from nobody) increments `leaseTransitions`
 *   and sets `acquireTime`; every write sets `renewTime`, `holderIdentity` and
 *   `leaseDurationSeconds`.
 * - The leader renews every `retryPeriodMs`. A renewal that keeps failing is retried
 *   every `retryPeriodMs` for up to `renewDeadlineMs`; then leadership is lost.
 *   Leadership is also lost as soon as a renewal finds another valid holder in the Lease
 *   (client-go would retry until the deadline; giving up at once shortens the overlap).
 * - Non-leaders retry every `retryPeriodMs × [1, 2.2)` (client-go's jitter).
 *
 * Unlike controller-runtime, which exits the process when leadership is lost, the
 * elector then calls `onStoppedLeading` and goes back to competing for the Lease: the
 * owner stops its controllers in `onStoppedLeading` and may lead again later.
 *
 * API errors never escape: they are logged and retried. Every timer is unref'd, so an
 * elector never keeps a process alive, and `stop()` interrupts any wait or request.
 *
 * Like client-go, this is not fencing: during a network partition two replicas can
 * briefly both believe they lead. Keep `leaseDurationMs` comfortably above
 * `renewDeadlineMs` to bound that.
 *
 * @example
 * ```ts
 * const elector = new LeaderElector(kubeConfig, { leaseName: 'web-operator-lock', namespace: 'operators' },
 *   { logger, metrics: metrics.leaderElection('web-operator-lock') });
 * elector.start({ onStartedLeading: () => manager.start(), onStoppedLeading: () => manager.stop() });
 * process.once('SIGTERM', () => void elector.stop());
 * ```
 */
export class LeaderElector {
  /** This candidate's identity, as written to `holderIdentity`. */
  readonly identity: string;
  readonly #options: ResolvedLeaderElectionOptions;
  readonly #lock: LeaseLock;
  readonly #log: Logger;
  readonly #metrics: LeaderElectionMetrics | undefined;
  readonly #clock: Clock;
  readonly #setTimer: (callback: () => void, ms: number) => CancelTimer;
  readonly #stop = new AbortController();
  /** A transport the elector made itself (from a kubeconfig), closed when it stops. */
  #ownTransport: ApiTransport | undefined;

  #callbacks: LeaderCallbacks | undefined;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  /** The shutdown deadline's share for the release (see stop()). */
  #releaseTimeoutMs: number | undefined;
  #leading = false;

  /** The record last read or written, the moment (our clock) it was seen to change, and its change key. */
  #observed: LeaderElectionRecord | undefined;
  #observedAt = -Infinity;
  #observedKey: string | undefined;
  /** The holder last reported to `onNewLeader` ('' before any). */
  #reportedLeader = '';

  readonly #decided: Promise<void>;
  #decide!: () => void;
  #refuse!: (err: LeaseForbiddenError) => void;
  #isDecided = false;
  /** Consecutive attempts refused with 403 before leadership was decided. */
  #forbidden = 0;

  /**
   * @param api the operator's transport (so Lease requests share its connections, deadlines
   *   and request metrics), or a kubeconfig to make a transport of its own.
   * @throws {LeaderElectionConfigError} for options client-go would reject (see {@link LeaderElectionOptions}).
   */
  constructor(api: KubeConfig | ApiTransport, options: LeaderElectionOptions, deps: LeaderElectorDeps = {}) {
    this.#options = resolveOptions(options);
    this.identity = this.#options.identity;
    const transport = api instanceof ApiTransport ? api : ApiTransport.create(api, { userAgent: `maestro-operator leader-election (${this.identity})` });
    if (transport !== api) this.#ownTransport = transport;
    this.#lock = new LeaseLock(transport, this.#options.namespace, this.#options.leaseName);
    this.#log = (deps.logger ?? noopLogger).child({ lease: this.#lock.describe(), identity: this.identity });
    this.#metrics = deps.metrics;
    this.#clock = deps.clock ?? realClock;
    this.#setTimer = this.#clock.setTimer ? this.#clock.setTimer.bind(this.#clock) : setRealTimer;
    this.#decided = new Promise<void>((resolve, reject) => {
      this.#decide = () => {
        this.#isDecided = true;
        resolve();
      };
      this.#refuse = (err) => {
        this.#isDecided = true;
        reject(err);
      };
    });
    // Nobody may be waiting when it rejects: that is not an unhandled rejection.
    this.#decided.catch(() => undefined);
  }

  /** Whether this candidate leads now: from acquiring the Lease until `onStoppedLeading` is called. */
  get isLeader(): boolean {
    return this.#leading;
  }

  /** The holder of the Lease as last read or written, or `undefined` if it has none (or was never seen). */
  get leader(): string | undefined {
    return this.#observed?.holderIdentity || undefined;
  }

  /**
   * Resolves once this candidate knows whether it leads: it acquired the Lease, or saw
   * another valid holder. It also resolves when the elector stops first. While the API
   * is unreachable it stays pending. It rejects with {@link LeaseForbiddenError} when two
   * attempts in a row were refused with 403 Forbidden before that: RBAC does not allow the
   * election (the elector keeps trying until stopped).
   *
   * @example
   * ```ts
   * elector.start(callbacks);
   * await elector.whenDecided();
   * if (!elector.isLeader) log.info({ leader: elector.leader }, 'standing by');
   * ```
   */
  whenDecided(): Promise<void> {
    return this.#decided;
  }

  /**
   * Starts competing for the Lease in the background. Returns at once; outcomes arrive
   * through `callbacks`. Never throws for API failures (they are logged and retried).
   *
   * @throws {LeaderElectorReuseError} if called after `start()` or `stop()`: an elector runs once.
   */
  start(callbacks: LeaderCallbacks): void {
    if (this.#running || this.#stop.signal.aborted) throw new LeaderElectorReuseError(this.#lock.describe());
    this.#callbacks = callbacks;
    this.#running = this.#run().catch((err: unknown) => {
      // #run handles its own failures; this only guards against a bug becoming an unhandled rejection.
      this.#log.error({ err: describeError(err) }, 'leader election stopped unexpectedly');
      if (this.#leading) {
        this.#leading = false;
        this.#metrics?.setLeader(false);
      }
    });
  }

  /**
   * Stops competing: interrupts any wait or request, calls `onStoppedLeading` if leading
   * (and waits for it), and then, if this candidate holds the Lease and `releaseOnCancel`
   * is set, releases it (empties `holderIdentity`, sets `leaseDurationSeconds` to 1) so
   * another candidate takes over at its next attempt. Resolves when all that is done (so
   * not before a promise returned by `onStoppedLeading` settles). Idempotent; never rejects.
   *
   * @param options - `releaseTimeoutMs`: how long the release may take (default the
   *   request timeout); a caller with a shutdown deadline passes what is left of it, so an
   *   unreachable API server cannot stretch the shutdown past it (the Lease then expires).
   *
   * @example
   * ```ts
   * process.once('SIGTERM', async () => { await elector.stop(); process.exit(0); });
   * ```
   */
  stop(options: { releaseTimeoutMs?: number } = {}): Promise<void> {
    this.#releaseTimeoutMs ??= options.releaseTimeoutMs;
    this.#stopping ??= (async () => {
      this.#stop.abort();
      await this.#running;
      this.#decide();
      await this.#ownTransport?.close();
    })();
    return this.#stopping;
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      this.#log.info('attempting to acquire the leader lease');
      if (!(await this.#acquire())) break;
      // Acquired just as stop() was called: never start leading, only release below.
      if (this.#stopped) break;
      this.#leading = true;
      this.#metrics?.setLeader(true);
      this.#log.info('acquired the leader lease');
      this.#notify('onStartedLeading', () => this.#callbacks?.onStartedLeading());
      // Only now, so that a waiter sees isLeader and the callback's effects.
      this.#decide();

      const lost = await this.#renew();
      this.#leading = false;
      this.#metrics?.setLeader(false);
      if (lost === undefined) this.#log.info('stopped leading: the elector is stopping');
      else this.#log.warn(`lost leadership: ${lost}; competing for the lease again`);
      await this.#notifyAsync('onStoppedLeading', () => this.#callbacks?.onStoppedLeading());
    }
    if (this.#options.releaseOnCancel) await this.#release();
  }

  /** Tries until this candidate holds the Lease (true) or the elector stops (false). */
  async #acquire(): Promise<boolean> {
    for (;;) {
      if (this.#stopped) return false;
      const attempt = await this.#tryAcquireOrRenew(this.#stop.signal);
      this.#reportLeader();
      if (attempt !== 'failed') this.#forbidden = 0;
      if (attempt === 'ok') return true;
      if (attempt === 'held') {
        this.#decide();
        this.#log.debug({ holder: this.#observed?.holderIdentity }, 'the lease is held by another candidate and has not expired');
      }
      await this.#sleep(jittered(this.#options.retryPeriodMs, JITTER_FACTOR), this.#stop.signal);
    }
  }

  /**
   * Renews every retry period until a renewal fails for the renew deadline or finds
   * another holder (resolves with why leadership was lost), or the elector stops
   * (resolves `undefined`).
   */
  async #renew(): Promise<string | undefined> {
    const { retryPeriodMs, renewDeadlineMs } = this.#options;
    for (;;) {
      // Each renewal gets renewDeadlineMs to succeed, retrying every retryPeriodMs; an
      // attempt in flight at the deadline is aborted.
      const deadline = this.#clock.now() + renewDeadlineMs;
      const window = this.#abortAfter(renewDeadlineMs, this.#stop.signal);
      try {
        for (;;) {
          const attempt = await this.#tryAcquireOrRenew(window.signal);
          if (this.#stopped) return undefined;
          if (attempt === 'ok') break;
          if (attempt === 'held') return `the lease was taken by ${this.#observed?.holderIdentity}`;
          const left = deadline - this.#clock.now();
          if (left > 0) await this.#sleep(Math.min(retryPeriodMs, left), window.signal);
          if (this.#stopped) return undefined;
          if (this.#clock.now() >= deadline) return `failed to renew the lease within the renew deadline (${renewDeadlineMs} ms)`;
        }
      } finally {
        window.cancel();
        this.#reportLeader();
      }
      this.#log.trace('renewed the leader lease');
      await this.#sleep(retryPeriodMs, this.#stop.signal);
      if (this.#stopped) return undefined;
    }
  }

  /** One attempt of client-go's `tryAcquireOrRenew`. */
  async #tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const now = Date.now();
    const desired: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.#options.leaseDurationSeconds,
      acquireTime: now,
      renewTime: now,
      leaderTransitions: 0,
    };

    // 1. Fast path: the leader writes over the version it last saw, without a read.
    if (this.#holds() && this.#isLeaseValid() && this.#lock.known) {
      desired.acquireTime = this.#observed!.acquireTime;
      desired.leaderTransitions = this.#observed!.leaderTransitions;
      try {
        this.#observe(await this.#request(signal, (s) => this.#lock.update(desired, s)));
        return 'ok';
      } catch (err) {
        if (signal.aborted) return this.#failed('renewing the lease', err, signal);
        this.#log.debug({ err: describeError(err) }, 'optimistic renewal of the lease failed; reading it');
      }
    }

    // 2. Read the Lease, or create it.
    let lease: V1Lease;
    try {
      lease = await this.#request(signal, (s) => this.#lock.get(s));
    } catch (err) {
      if (!isNotFound(err)) return this.#failed('reading the lease', err, signal);
      try {
        this.#observe(await this.#request(signal, (s) => this.#lock.create(desired, s)));
        return 'ok';
      } catch (createErr) {
        return this.#failed('creating the lease', createErr, signal);
      }
    }

    // 3. Is it ours to take? The expiry clock restarts whenever the record changes.
    this.#observe(lease);
    const observed = this.#observed!;
    if (observed.holderIdentity !== '' && this.#isLeaseValid() && !this.#holds()) return 'held';

    // 4. Take or renew it, conditionally on the version just read.
    if (this.#holds()) {
      desired.acquireTime = observed.acquireTime;
      desired.leaderTransitions = observed.leaderTransitions;
    } else {
      desired.leaderTransitions = observed.leaderTransitions + 1;
    }
    try {
      this.#observe(await this.#request(signal, (s) => this.#lock.update(desired, s)));
      return 'ok';
    } catch (err) {
      return this.#failed(this.#holds() ? 'renewing the lease' : 'taking over the lease', err, signal);
    }
  }

  /** Logs a failed step (quietly when expected) and reports the attempt as failed. */
  #failed(doing: string, err: unknown, signal: AbortSignal): 'failed' {
    if (this.#stopped) return 'failed'; // stop() aborted the request: nothing to report
    const fields = { err: describeError(err) };
    if (isForbidden(err)) {
      this.#forbidden++;
      // Twice in a row (not a Role created a moment ago): nothing will change by retrying.
      if (!this.#isDecided && this.#forbidden >= 2) {
        const verb = doing.startsWith('reading') ? 'get' : doing.startsWith('creating') ? 'create' : 'update';
        this.#refuse(new LeaseForbiddenError(this.#options.namespace, this.#options.leaseName, verb, describeError(err), { cause: err }));
      }
    } else {
      this.#forbidden = 0;
    }
    // A 409 is the optimistic-concurrency race working as intended, not a failure.
    if (isConflict(err) || isAlreadyExists(err)) this.#log.info(fields, `${doing}: another candidate wrote the lease first`);
    else if (signal.aborted) this.#log.warn(fields, `${doing}: timed out at the renew deadline`);
    else this.#log.error(fields, `${doing} failed; will retry`);
    return 'failed';
  }

  /** client-go's release: an empty holder with a 1 s duration, written over the version we hold. */
  async #release(): Promise<void> {
    if (!this.#holds() || !this.#lock.known) return;
    const now = Date.now();
    const released: LeaderElectionRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaderTransitions: this.#observed!.leaderTransitions,
    };
    // stop() already aborted #stop, so the release gets only its own timeout.
    const timeout = this.#abortAfter(Math.min(this.#options.requestTimeoutMs, this.#releaseTimeoutMs ?? Infinity));
    try {
      this.#observe(await this.#lock.update(released, timeout.signal));
      this.#log.info('released the leader lease');
    } catch (err) {
      this.#log.error({ err: describeError(err) }, 'failed to release the leader lease; it expires after its lease duration');
    } finally {
      timeout.cancel();
    }
  }

  #holds(): boolean {
    return this.#observed?.holderIdentity === this.identity;
  }

  #isLeaseValid(): boolean {
    return this.#observed !== undefined && isLeaseValid(this.#observedAt, this.#observed.leaseDurationSeconds, this.#clock.now());
  }

  /** Records a Lease read or written; the expiry clock restarts only if its election fields changed. */
  #observe(lease: V1Lease): void {
    const key = recordKey(lease);
    if (key === this.#observedKey) return;
    this.#observedKey = key;
    this.#observed = recordFromLease(lease);
    this.#observedAt = this.#clock.now();
  }

  /** client-go's `maybeReportTransition`, skipping the empty holder of a released Lease. */
  #reportLeader(): void {
    const holder = this.#observed?.holderIdentity ?? '';
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder !== '') this.#notify('onNewLeader', () => this.#callbacks?.onNewLeader?.(holder));
  }

  /** Calls a callback without waiting for it; a throw or a rejected promise (an `async` callback) is logged. */
  #notify(name: string, call: () => unknown): void {
    const failed = (err: unknown): void => this.#log.error({ err: describeError(err) }, `${name} failed`);
    try {
      const result = call();
      if (result instanceof Promise) result.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  async #notifyAsync(name: string, call: () => void | Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      this.#log.error({ err: describeError(err) }, `${name} failed`);
    }
  }

  /** Runs one API request, aborted when `parent` aborts or after the request timeout (client-go's HTTP client timeout). */
  async #request<T>(parent: AbortSignal, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeout = this.#abortAfter(this.#options.requestTimeoutMs, parent);
    try {
      return await send(timeout.signal);
    } finally {
      timeout.cancel();
    }
  }

  /** An AbortSignal that fires after `ms` on the elector's clock, or when `parent` aborts; `cancel` frees both. */
  #abortAfter(ms: number, parent?: AbortSignal): { signal: AbortSignal; cancel: () => void } {
    const controller = new AbortController();
    const onParent = (): void => controller.abort(parent?.reason);
    const cancelTimer = this.#setTimer(() => controller.abort(new Error(`timed out after ${ms} ms`)), ms);
    if (parent?.aborted) onParent();
    else parent?.addEventListener('abort', onParent, { once: true });
    return {
      signal: controller.signal,
      cancel: () => {
        cancelTimer();
        parent?.removeEventListener('abort', onParent);
      },
    };
  }

  /** Waits `ms` on the elector's clock, or less if `signal` aborts first. */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        cancelTimer();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const cancelTimer = this.#setTimer(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
