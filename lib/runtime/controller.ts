/**
 * The controller of one parent kind: events to keys, a work queue, workers, and terms.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { isTerminal, type Result } from '../api/index.js';
import type { ObjectSource } from '../cache/index.js';
import type { Client, ControllerClient } from '../client/client.js';
import { isNotFound } from '../client/errors.js';
import { ContextCanceledError, type Context } from '../context/index.js';
import { Registry } from '../declare/registry.js';
import type { ParentSpec } from '../declare/specs.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { ControllerMetrics, Metrics } from '../metrics/index.js';
import { WorkQueue, realClock, setRealTimer, type CancelTimer, type Clock, type RateLimiter } from '../queue/index.js';
import type { ResourceInfo, ResourceLookup } from '../resources/index.js';
import { isInterruption, type ReconcilePipeline } from './pipeline.js';
import { queueKey as keyOf, subscribe } from './sources.js';

/** Options of a {@link Controller}. */
export interface ControllerOptions {
  spec: ParentSpec;
  /** Where parents are read and which announces changes (the cache). */
  source: ObjectSource;
  /** Makes the per-parent clients, recognises the echo of the operator's own applies, and serves map functions' reads. */
  client: ControllerClient & Client;
  /** Resolves classes for map functions (default: `Registry.default`'s resources). */
  resources?: ResourceLookup;
  pipeline: ReconcilePipeline;
  metrics: Metrics;
  logger: Logger;
  /** Reconciles of different objects run at once (default 1, like controller-runtime). */
  maxConcurrentReconciles?: number;
  /** Re-reconcile every cached parent this often (default: never). */
  resyncPeriodMs?: number;
  /** A new rate limiter for each term's queue (default: the queue's default). */
  rateLimiter?: () => RateLimiter<string>;
  /** Time for the queue, resyncs and reconcile durations (default: the real clock). */
  clock?: Clock;
}

/** Thrown by {@link Controller.start} while workers of an earlier term are still running. */
export class ControllerBusyError extends Error {}

/** One period of work: from `start` to the end of its last worker. */
interface Term {
  readonly ctx: Context;
  readonly cancel: (reason?: unknown) => void;
  readonly queue: WorkQueue<string>;
  readonly workers: Array<Promise<void>>;
  /** Set when the term ends: no key is handed out any more. */
  ending: boolean;
  inFlight: number;
  stopResync?: CancelTimer;
}

type Parent = KubernetesObject & { metadata: NonNullable<KubernetesObject['metadata']> };

/** Parents deleted before their cleanup ran, remembered until it did. */
const GONE_LIMIT = 10_000;

function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * Runs the reconciles of one parent kind (controller-runtime's internal controller):
 * parent, owned-child and related-kind events (see `sources.ts`) become keys in a
 * de-duplicating work queue; workers take keys (never two of the same key at once), read
 * the parent from the cache and hand it to the {@link ReconcilePipeline} (which copies it
 * once it is known to be within the object limits), then requeue by the outcome (backoff on
 * error, `requeueAfter`, or nothing). Every reconcile is logged with `controller`,
 * `namespace`, `name` and `reconcileID`, and measured.
 *
 * Work happens in terms (`start` to `stop`/`abort`): each term has its own queue and
 * context, begins by enqueueing every cached parent, and a new term cannot start before
 * every worker of the previous one has finished, so no key is ever worked on twice at
 * once, across terms included.
 */
export class Controller {
  readonly name: string;
  readonly resource: ResourceInfo;
  readonly #options: ControllerOptions;
  readonly #metrics: ControllerMetrics;
  readonly #log: Logger;
  readonly #concurrency: number;
  readonly #clock: Clock;
  readonly #setTimer: (callback: () => void, ms: number) => CancelTimer;
  #term: Term | undefined;
  /**
   * Parents deleted with a finalizer of ours on them (`Finalizers.missedCleanup`), as last
   * seen, by key and uid: each goes through the pipeline once more, for its cleanups only.
   */
  readonly #gone = new Map<string, Map<string, Parent>>();
  #goneCount = 0;
  /** The workers of the last term, until all of them finished. */
  #previous: Promise<void> | undefined;
  #watching = false;

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.resource = options.spec.resource;
    this.name = options.spec.name;
    this.#concurrency = Math.max(1, Math.floor(options.maxConcurrentReconciles ?? 1));
    this.#clock = options.clock ?? realClock;
    this.#setTimer = this.#clock.setTimer ? this.#clock.setTimer.bind(this.#clock) : setRealTimer;
    this.#metrics = options.metrics.controller(this.name);
    this.#metrics.setMaxConcurrentReconciles(this.#concurrency);
    this.#log = options.logger.child({ controller: this.name });
  }

  /** The work queue of the current term (keys `namespace/name`), if running. */
  get queue(): WorkQueue<string> | undefined {
    return this.#term?.queue;
  }

  /** Whether a term is running (and handing out keys). */
  get running(): boolean {
    return this.#term !== undefined && !this.#term.ending;
  }

  /** Reconciles in flight. */
  get inFlight(): number {
    return this.#term?.inFlight ?? 0;
  }

  #enqueue(key: string): void {
    const term = this.#term;
    if (term && !term.ending) term.queue.add(key);
  }

  /**
   * Subscribes to the parent kind, owned kinds and related kinds (call once, before the
   * cache starts): see {@link subscribe}. Events outside a term are dropped: every term
   * begins with every parent.
   */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    const { source, spec, client, pipeline, metrics } = this.#options;
    subscribe({
      spec,
      source,
      client,
      resources: this.#options.resources ?? Registry.default.resources,
      finalizers: pipeline.finalizers,
      metrics: metrics.watch(this.name),
      logger: this.#log,
      active: () => (this.#term && !this.#term.ending ? this.#term.ctx.signal : undefined),
      enqueue: (key) => this.#enqueue(key),
      deleted: (obj) => this.#deleted(obj),
    });
  }

  /** Remembers a parent deleted before its cleanup ran; returns whether it was one. */
  #deleted(obj: KubernetesObject): boolean {
    if (!this.#options.pipeline.finalizers.missedCleanup(obj)) return false;
    const { namespace, name, uid = '' } = obj.metadata ?? {};
    const key = keyOf(namespace, name ?? '');
    let entries = this.#gone.get(key);
    if (!entries) this.#gone.set(key, (entries = new Map<string, Parent>()));
    if (!entries.has(uid)) this.#goneCount++;
    entries.set(uid, obj as Parent);
    if (this.#goneCount > GONE_LIMIT) {
      const [oldestKey, oldest] = this.#gone.entries().next().value!;
      const [oldestUid] = oldest.keys();
      this.#forgetGone(oldestKey, oldestUid!);
      this.#log.error({ key: oldestKey, uid: oldestUid, limit: GONE_LIMIT }, 'too many parents deleted before their cleanup; the oldest one\'s cleanup is not run');
    }
    return true;
  }

  #forgetGone(key: string, uid: string): void {
    const entries = this.#gone.get(key);
    if (!entries?.delete(uid)) return;
    this.#goneCount--;
    if (entries.size === 0) this.#gone.delete(key);
  }

  /**
   * Begins a term: a new queue holding every cached parent, and the workers. Reconciles
   * run with a context derived from `ctx`.
   *
   * @throws {@link ControllerBusyError} while a term runs, or workers of the previous term are still running.
   */
  start(ctx: Context): void {
    if (this.#term) throw new ControllerBusyError(`controller ${this.name} is already running`);
    if (this.#previous) throw new ControllerBusyError(`controller ${this.name}: workers of the previous term are still running`);
    const [termContext, cancel] = ctx.withCancel();
    const queue = new WorkQueue<string>({
      name: this.name, metrics: this.#options.metrics.queue(this.name), rateLimiter: this.#options.rateLimiter?.(), clock: this.#options.clock,
    });
    const term: Term = { ctx: termContext, cancel, queue, workers: [], ending: false, inFlight: 0 };
    this.#term = term;
    this.#enqueueAll(term);
    for (let i = 0; i < this.#concurrency; i++) term.workers.push(this.#work(term));
    const period = this.#options.resyncPeriodMs;
    if (period && period > 0) {
      const resync = (): void => {
        if (term.ending) return;
        this.#enqueueAll(term);
        term.stopResync = this.#setTimer(resync, period);
      };
      term.stopResync = this.#setTimer(resync, period);
    }
    this.#log.info({ workers: this.#concurrency }, 'controller started');
  }

  #enqueueAll(term: Term): void {
    for (const obj of this.#options.source.list(this.resource)) term.queue.add(keyOf(obj.metadata?.namespace, obj.metadata?.name ?? ''));
    for (const key of this.#gone.keys()) term.queue.add(key);
  }

  /** Ends the current term: no key is handed out any more; returns it with its workers. */
  #end(): { term: Term; finished: Promise<void> } | undefined {
    const term = this.#term;
    if (!term) return undefined;
    this.#term = undefined;
    term.ending = true;
    term.stopResync?.();
    term.queue.shutDown();
    const finished = Promise.all(term.workers).then(() => undefined);
    const previous = finished.then(() => { if (this.#previous === previous) this.#previous = undefined; });
    this.#previous = previous;
    return { term, finished: previous };
  }

  /**
   * Ends the term at once (leadership lost): the context of every reconcile in flight is
   * cancelled (their API calls abort), no key is handed out any more, and the promise
   * resolves when every worker has finished. Idempotent.
   */
  async abort(reason: unknown = new ContextCanceledError()): Promise<void> {
    const ended = this.#end();
    if (ended) {
      ended.term.cancel(reason);
      this.#log.info({ inFlight: ended.term.inFlight }, 'controller stopping: reconciles in flight cancelled');
    }
    await this.#previous;
    if (ended) this.#log.info('controller stopped');
  }

  /**
   * Ends the term gracefully (shutdown): no key is handed out any more, reconciles in
   * flight may finish within `graceMs`, then their context is cancelled. Resolves with
   * whether they finished within the grace period (after cancelling, it waits at most
   * `graceMs` more for workers that ignore cancellation).
   */
  async stop(graceMs = 30_000): Promise<boolean> {
    const ended = this.#end();
    if (!ended) return this.#previous ? this.#within(this.#previous, graceMs) : true;
    const inTime = await this.#within(ended.finished, graceMs);
    if (!inTime) {
      ended.term.cancel(new ContextCanceledError({ cause: `graceful shutdown period of ${graceMs} ms exceeded` }));
      await this.#within(ended.finished, graceMs);
    }
    this.#log.info({ finished: inTime }, 'controller stopped');
    return inTime;
  }

  #within(promise: Promise<void>, ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const cancel = setRealTimer(() => resolve(false), ms);
      void promise.then(() => {
        cancel();
        resolve(true);
      });
    });
  }

  async #work(term: Term): Promise<void> {
    for (;;) {
      const key = await term.queue.get();
      if (key === undefined) return;
      // Keys still waiting when the term ended are not handed to the pipeline.
      if (term.ending || term.ctx.aborted) {
        term.queue.done(key);
        continue;
      }
      term.inFlight++;
      this.#metrics.addActiveWorkers(1);
      try {
        await this.#reconcileKey(term, key);
      } catch (err) {
        // #reconcileKey handles its failures; this keeps a bug from ending the worker.
        this.#log.error({ err: describeError(err), key }, 'reconcile worker failed unexpectedly');
      } finally {
        term.inFlight--;
        this.#metrics.addActiveWorkers(-1);
        term.queue.done(key);
      }
    }
  }

  async #reconcileKey(term: Term, key: string): Promise<void> {
    const started = this.#clock.now();
    const elapsed = () => Math.max(0, this.#clock.now() - started) / 1000;
    const { namespace, name } = splitKey(key);
    const log = this.#log.child({ namespace, name, reconcileID: randomUUID() });
    // First the cleanups deletions skipped; then a parent of the same name created since, if any.
    if (this.#gone.has(key) && !(await this.#cleanupGone(term, key, elapsed, log))) return;
    let parent: Parent | undefined;
    try {
      parent = this.#options.source.get<Parent>(this.resource, name, namespace);
    } catch (err) {
      this.#failed(term, key, err, elapsed(), log);
      return;
    }
    if (!parent) {
      // Deleted: owned children are garbage-collected by Kubernetes; nothing to do.
      term.queue.forget(key);
      this.#metrics.reconciled('success', elapsed());
      return;
    }
    log.debug('reconciling');
    try {
      // The cached object as is: the pipeline checks its limits before it copies it (a copy
      // is the first thing that would walk an object of any depth). The client reads only
      // the parent's metadata (the owner of what it applies).
      const result = await this.#options.pipeline.reconcile({ ctx: term.ctx, parent, client: this.#options.client.forParent(parent, term.ctx.signal), logger: log });
      this.#succeeded(term, key, result, elapsed(), log);
    } catch (err) {
      this.#failed(term, key, err, elapsed(), log);
    }
  }

  /**
   * Runs the cleanups of the parents of `key` deleted before them, oldest first. Returns
   * whether all are done; if not, the key was requeued (by the result or with backoff).
   */
  async #cleanupGone(term: Term, key: string, elapsed: () => number, log: Logger): Promise<boolean> {
    for (const [uid, gone] of [...this.#gone.get(key) ?? []]) {
      const goneLog = log.child({ uid });
      try {
        // A deletion event is no proof: a parent that stopped matching the controller's
        // selector is reported deleted too, and must keep what it owns.
        if (await this.#stillExists(gone, term)) {
          goneLog.info('a parent reported deleted still exists (it no longer matches the selector); no cleanup');
          this.#forgetGone(key, uid);
          continue;
        }
        goneLog.warn({ finalizers: gone.metadata.finalizers },
          'parent deleted with its finalizer on it (the delete raced the finalizer being added, kubernetes/kubernetes#77988); running its cleanup');
        const result = await this.#options.pipeline.reconcile({
          ctx: term.ctx, parent: gone, client: this.#options.client.forParent(gone, term.ctx.signal), logger: goneLog, gone: true,
        });
        if (result.requeue || (result.requeueAfter ?? 0) > 0) {
          this.#succeeded(term, key, result, elapsed(), log);
          return false;
        }
        this.#forgetGone(key, uid);
      } catch (err) {
        if (!isTerminal(err) || isInterruption(err)) {
          this.#failed(term, key, err, elapsed(), log);
          return false;
        }
        // Nothing to wait for: the parent will not change again. A live one of the same name is
        // reconciled. (Not counted as a terminal reconcile error: this work item goes on.)
        this.#forgetGone(key, uid);
        goneLog.warn({ err: describeError(err) }, 'the cleanup of a parent deleted before it failed terminally; not retried');
      }
    }
    return true;
  }

  /** Whether the API server still has `obj` (the same uid). */
  async #stillExists(obj: Parent, term: Term): Promise<boolean> {
    try {
      return (await this.#options.client.readLive(obj, term.ctx.signal)).metadata?.uid === obj.metadata.uid;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  #succeeded(term: Term, key: string, result: Result, seconds: number, log: Logger): void {
    if (result.requeueAfter && result.requeueAfter > 0) {
      term.queue.forget(key);
      term.queue.addAfter(key, result.requeueAfter);
      this.#metrics.reconciled('requeue_after', seconds);
    } else if (result.requeue) {
      term.queue.addRateLimited(key);
      this.#metrics.reconciled('requeue', seconds);
    } else {
      term.queue.forget(key);
      this.#metrics.reconciled('success', seconds);
    }
    log.debug({ seconds, ...result }, 'reconciled');
  }

  #failed(term: Term, key: string, err: unknown, seconds: number, log: Logger): void {
    this.#metrics.reconciled('error', seconds);
    if (isInterruption(err)) {
      // The term ended: the next term (or the next leader) picks the key up again.
      log.info({ err: describeError(err) }, 'reconcile interrupted');
      return;
    }
    if (isTerminal(err)) {
      // Retrying cannot help; the next change of the parent brings it back.
      this.#metrics.terminalError();
      term.queue.forget(key);
      log.warn({ err: describeError(err) }, 'reconcile failed terminally; not retrying until the object changes');
    } else {
      term.queue.addRateLimited(key);
      log.error({ err: describeError(err), retries: term.queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
    }
  }
}
