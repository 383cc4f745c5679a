import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { isTerminal, type Result } from '../api/index.js';
import type { Cache } from '../cache/index.js';
import type { KubeClient } from '../client/kube-client.js';
import { ReconcilerError } from '../conductor/conductor.js';
import { Context, ContextCanceledError, DeadlineExceededError } from '../context/index.js';
import { describeError } from '../errors/index.js';
import type { EventRecorder } from '../events/index.js';
import { withLogger, type Logger } from '../log/index.js';
import type { ControllerMetrics, Metrics } from '../metrics/index.js';
import type { ParentConductor } from '../operator/assembly.js';
import { WorkQueue, type RateLimiter } from '../queue/index.js';
import { resourceOf, type ResourceInfo } from '../resources/index.js';
import { parentChanged } from './predicates.js';

/** Options of a {@link Controller}. */
export interface ControllerOptions {
  /** The controller's name in logs and metrics (default: the parent kind in lower case). */
  name?: string;
  parent: ParentConductor;
  cache: Cache;
  /** The operator's client; each reconcile gets one bound to its parent. */
  client: KubeClient;
  metrics: Metrics;
  events: EventRecorder;
  logger: Logger;
  /** The operator's root context: cancelled on shutdown. */
  context: Context;
  /** Reconciles of different objects run at once (default 1, like controller-runtime). */
  maxConcurrentReconciles?: number;
  /** Re-reconcile every cached parent this often (default: never). */
  resyncPeriodMs?: number;
  rateLimiter?: RateLimiter<string>;
}

type Parent = KubernetesObject & { metadata: NonNullable<KubernetesObject['metadata']> };

const keyOf = (namespace: string | undefined, name: string) => (namespace ? `${namespace}/${name}` : name);

function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

const groupOf = (apiVersion: string | undefined) => (apiVersion?.includes('/') ? apiVersion.split('/')[0]! : '');

/**
 * Runs the reconcile loop of one parent type (controller-runtime's internal controller):
 * parent and owned-child events become keys in a de-duplicating work queue; workers
 * take keys (never two of the same key at once), read the parent from the cache, add
 * or honour finalizers, conduct the reconcilers, and requeue by the result (backoff on
 * error, `requeueAfter`, or nothing). Every reconcile is logged with `controller`,
 * `namespace`, `name` and `reconcileID`, measured, and reported as Events on failure.
 */
export class Controller {
  readonly name: string;
  readonly resource: ResourceInfo;
  #queue: WorkQueue<string>;
  readonly #options: ControllerOptions;
  readonly #metrics: ControllerMetrics;
  readonly #log: Logger;
  readonly #concurrency: number;
  #workers: Promise<void>[] = [];
  #resync: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.resource = options.parent.resource;
    this.name = options.name ?? this.resource.kind.toLowerCase();
    this.#concurrency = Math.max(1, Math.floor(options.maxConcurrentReconciles ?? 1));
    this.#queue = this.#newQueue();
    this.#metrics = options.metrics.controller(this.name);
    this.#metrics.setMaxConcurrentReconciles(this.#concurrency);
    this.#log = options.logger.child({ controller: this.name });
  }

  /** The work queue of parent keys (`namespace/name`). */
  get queue(): WorkQueue<string> {
    return this.#queue;
  }

  #newQueue(): WorkQueue<string> {
    const options = this.#options;
    return new WorkQueue<string>({ name: this.name, metrics: options.metrics.queue(this.name), rateLimiter: options.rateLimiter });
  }

  /** Subscribes to the parent's and the owned kinds' informers (before the cache starts, so the first list enqueues every parent). */
  watch(): void {
    const { cache } = this.#options;
    const enqueue = (obj: KubernetesObject) => this.queue.add(keyOf(obj.metadata?.namespace, obj.metadata?.name ?? ''));
    cache.addHandler(this.resource, {
      onAdd: enqueue,
      onUpdate: (oldObj, newObj) => { if (parentChanged(oldObj, newObj, this.#options.parent.finalizers)) enqueue(newObj); },
      onDelete: enqueue,
    });
    const parentGroup = this.resource.group;
    const enqueueOwner = (child: KubernetesObject) => {
      for (const ref of child.metadata?.ownerReferences ?? []) {
        if (!ref.controller || ref.kind !== this.resource.kind || groupOf(ref.apiVersion) !== parentGroup) continue;
        this.queue.add(keyOf(this.resource.namespaced ? child.metadata?.namespace : undefined, ref.name));
      }
    };
    // The echo of our own apply (same resourceVersion as the apply returned) changes
    // nothing the reconcile that applied it does not know: skip it, or every apply would
    // reconcile its parent once more (and race that parent's status update in the cache).
    const unlessOwnApply = (child: KubernetesObject, then: () => void) => {
      const own = this.#options.client.isOwnApply(child);
      if (own === false) then();
      else if (own !== true) void own.then((yes) => { if (!yes) then(); });
    };
    const controllerUid = (obj: KubernetesObject) => obj.metadata?.ownerReferences?.find((r) => r.controller)?.uid;
    for (const owned of this.#options.parent.owns) {
      cache.addHandler(resourceOf(owned.type), {
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

  /** Starts the workers (the cache should be synced). A stopped controller can start again (e.g. on regaining leadership). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (this.#queue.shuttingDown) {
      this.#queue = this.#newQueue();
      this.#enqueueAll();
    }
    for (let i = 0; i < this.#concurrency; i++) this.#workers.push(this.#work());
    const period = this.#options.resyncPeriodMs;
    if (period && period > 0) {
      this.#resync = setInterval(() => this.#enqueueAll(), period);
      this.#resync.unref();
    }
    this.#log.info({ workers: this.#concurrency }, 'controller started');
  }

  /** Enqueues every cached parent. */
  #enqueueAll(): void {
    for (const obj of this.#options.cache.list(this.resource)) this.#queue.add(keyOf(obj.metadata?.namespace, obj.metadata?.name ?? ''));
  }

  /**
   * Stops taking keys and waits for the reconciles in flight to finish. Returns whether
   * they finished within `graceMs`.
   */
  async stop(graceMs = 30_000): Promise<boolean> {
    if (this.#resync) clearInterval(this.#resync);
    const drained = this.#queue.shutDownWithDrain();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all([drained, ...this.#workers]).then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); timer.unref(); }),
    ]);
    clearTimeout(timer);
    this.#running = false;
    this.#workers = [];
    this.#log.info({ finished }, 'controller stopped');
    return finished;
  }

  async #work(): Promise<void> {
    const queue = this.#queue;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      this.#metrics.addActiveWorkers(1);
      try {
        await this.#reconcileKey(key);
      } finally {
        this.#metrics.addActiveWorkers(-1);
        queue.done(key);
      }
    }
  }

  async #reconcileKey(key: string): Promise<void> {
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const { namespace, name } = splitKey(key);
    const cached = this.#options.cache.get<Parent>(this.resource, name, namespace);
    if (!cached) {
      // Deleted: owned children are garbage-collected by Kubernetes; nothing to do.
      this.queue.forget(key);
      this.#metrics.reconciled('success', elapsed());
      return;
    }
    const parent = structuredClone(cached);
    const log = this.#log.child({ namespace, name, reconcileID: randomUUID() });
    const client = this.#options.client.forParent(parent);
    const ctx = withLogger(this.#options.context, log);
    log.debug('reconciling');
    try {
      const result = parent.metadata.deletionTimestamp
        ? await this.#finalize(ctx, parent, client, log)
        : await this.#options.parent.conduct(ctx, parent, { client, logger: log });
      this.#succeeded(key, result, elapsed(), log);
    } catch (err) {
      this.#failed(key, parent, err, elapsed(), log);
    }
  }

  /** Runs the cleanup of each of our finalizers still on the parent, removing each after it succeeded. */
  async #finalize(ctx: Context, parent: Parent, client: KubeClient, log: Logger): Promise<Result> {
    for (const finalizer of this.#options.parent.finalizers) {
      const current = parent.metadata.finalizers ?? [];
      if (!current.includes(finalizer)) continue;
      const result = await this.#options.parent.cleanup(ctx, parent, finalizer, { client, logger: log });
      if (result.requeue || (result.requeueAfter ?? 0) > 0) return result;
      const remaining = current.filter((f) => f !== finalizer);
      // test+replace: fails (and is retried) only if the finalizers changed meanwhile.
      const updated = await client.patch(parent, [
        { op: 'test', path: '/metadata/finalizers', value: current },
        { op: 'replace', path: '/metadata/finalizers', value: remaining },
      ], { type: 'json' });
      parent.metadata.finalizers = updated.metadata?.finalizers ?? remaining;
      parent.metadata.resourceVersion = updated.metadata?.resourceVersion;
      log.info({ finalizer }, 'cleanup done; finalizer removed');
    }
    return {};
  }

  #succeeded(key: string, result: Result, seconds: number, log: Logger): void {
    if (result.requeueAfter && result.requeueAfter > 0) {
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfter);
      this.#metrics.reconciled('requeue_after', seconds);
    } else if (result.requeue) {
      this.queue.addRateLimited(key);
      this.#metrics.reconciled('requeue', seconds);
    } else {
      this.queue.forget(key);
      this.#metrics.reconciled('success', seconds);
    }
    log.debug({ seconds, ...result }, 'reconciled');
  }

  #failed(key: string, parent: Parent, err: unknown, seconds: number, log: Logger): void {
    if (err instanceof ContextCanceledError || err instanceof DeadlineExceededError) {
      // Shutting down: the next leader (or the next start) picks the key up again.
      log.info({ err: describeError(err) }, 'reconcile interrupted');
      this.#metrics.reconciled('error', seconds);
      return;
    }
    const cause = err instanceof ReconcilerError ? err.cause : err;
    const reason = (cause as { reason?: unknown })?.reason;
    const eventReason = typeof reason === 'string' && /^[A-Za-z][A-Za-z0-9]*$/.test(reason) ? reason : 'ReconcileError';
    this.#metrics.reconciled('error', seconds);
    if (isTerminal(err)) {
      // Retrying cannot help; the next change of the parent brings it back.
      this.#metrics.terminalError();
      this.queue.forget(key);
      log.warn({ err: describeError(err) }, 'reconcile failed terminally; not retrying until the object changes');
    } else {
      this.queue.addRateLimited(key);
      log.error({ err: describeError(err), retries: this.queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
    }
    this.#options.events.event(parent, 'Warning', eventReason, describeError(err));
  }
}
