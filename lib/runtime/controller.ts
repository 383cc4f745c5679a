/**
 * The controller of one parent kind: events to keys, a work queue, workers, and terms.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { isTerminal, type Result } from '../api/index.js';
import type { ObjectSource } from '../cache/index.js';
import type { ControllerClient } from '../client/client.js';
import { ContextCanceledError, type Context } from '../context/index.js';
import type { ParentSpec } from '../declare/specs.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { ControllerMetrics, Metrics } from '../metrics/index.js';
import { WorkQueue, realClock, setRealTimer, type CancelTimer, type Clock, type RateLimiter } from '../queue/index.js';
import type { ResourceInfo } from '../resources/index.js';
import { isInterruption, type ReconcilePipeline } from './pipeline.js';
import { parentChanged } from './predicates.js';

/** Options of a {@link Controller}. */
export interface ControllerOptions {
  spec: ParentSpec;
  /** Where parents are read and which announces changes (the cache). */
  source: ObjectSource;
  /** Makes the per-parent clients, and recognises the echo of the operator's own applies. */
  client: ControllerClient;
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

const keyOf = (namespace: string | undefined, name: string) => (namespace ? `${namespace}/${name}` : name);

function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

const groupOf = (apiVersion: string | undefined) => (apiVersion?.includes('/') ? apiVersion.split('/')[0]! : '');

/**
 * Runs the reconciles of one parent kind (controller-runtime's internal controller):
 * parent and owned-child events become keys in a de-duplicating work queue; workers take
 * keys (never two of the same key at once), read the parent from the cache and hand it to
 * the {@link ReconcilePipeline} (which copies it once it is known to be within the object
 * limits), then requeue by the outcome (backoff on
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
   * Subscribes to the parent kind and the watched kinds (call once, before the cache
   * starts). Events outside a term are dropped: every term begins with every parent.
   */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    const { source, spec, client, pipeline } = this.#options;
    const enqueue = (obj: KubernetesObject) => this.#enqueue(keyOf(obj.metadata?.namespace, obj.metadata?.name ?? ''));
    source.addHandler(this.resource, {
      onAdd: enqueue,
      onUpdate: (oldObj, newObj) => { if (parentChanged(oldObj, newObj, pipeline.finalizers)) enqueue(newObj); },
      onDelete: enqueue,
    });
    const parentGroup = this.resource.group;
    const enqueueOwner = (child: KubernetesObject) => {
      for (const ref of child.metadata?.ownerReferences ?? []) {
        if (!ref.controller || ref.kind !== this.resource.kind || groupOf(ref.apiVersion) !== parentGroup) continue;
        this.#enqueue(keyOf(this.resource.namespaced ? child.metadata?.namespace : undefined, ref.name));
      }
    };
    // The echo of our own apply (same resourceVersion as the apply returned) changes
    // nothing the reconcile that applied it does not know: skip it, or every apply would
    // reconcile its parent once more (and race that parent's status update in the cache).
    const unlessOwnApply = (child: KubernetesObject, then: () => void) => {
      const own = client.isOwnApply(child);
      if (own === false) then();
      else if (own !== true) void own.then((yes) => { if (!yes) then(); }, () => then());
    };
    const controllerUid = (obj: KubernetesObject) => obj.metadata?.ownerReferences?.find((r) => r.controller)?.uid;
    for (const watched of spec.watches) {
      source.addHandler(watched.resource, {
        onAdd: (child) => unlessOwnApply(child, () => enqueueOwner(child)),
        onUpdate: (oldObj, newObj) => {
          // An apply that took the child over from another parent still tells that parent.
          if (controllerUid(oldObj) !== controllerUid(newObj)) enqueueOwner(oldObj);
          unlessOwnApply(newObj, () => { enqueueOwner(oldObj); enqueueOwner(newObj); });
        },
        onDelete: enqueueOwner,
      });
    }
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
