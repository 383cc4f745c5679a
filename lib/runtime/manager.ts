/**
 * The Manager: the infrastructure an operator's controllers share, and their lifecycle.
 *
 * @module
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { DependencyContainer } from 'tsyringe';
import { Cache, type Informer } from '../cache/index.js';
import { ApiError } from '../client/errors.js';
import { KubeClient } from '../client/kube-client.js';
import { ApiTransport } from '../client/transport.js';
import { Context, ContextCanceledError } from '../context/index.js';
import type { OperatorSpec, ParentSpec } from '../declare/specs.js';
import { MaestroError, describeError } from '../errors/index.js';
import { KubeEventRecorder } from '../events/index.js';
import { LeaderElector, LeaseForbiddenError, type LeaderElectionOptions } from '../leader/index.js';
import type { ObjectLimits } from '../limits/index.js';
import type { Logger } from '../log/index.js';
import { Metrics } from '../metrics/index.js';
import type { RateLimiter } from '../queue/index.js';
import { Controller } from './controller.js';
import { ReconcileScope, type ParentInjection } from './injection.js';
import { ReconcilePipeline } from './pipeline.js';
import { Serving, type ServerOptions } from './serving.js';
import { Terms } from './terms.js';
import { WebhookRuntime, type WebhookOptions } from './webhooks.js';

/** `start()` could not bring the operator up (e.g. a CRD is not installed, or RBAC forbids a watch). */
export class OperatorStartError extends MaestroError {
  readonly code = 'OperatorStart';
}

/** Options of a {@link Manager} (see `OperatorOptions` for their meaning and defaults). */
export interface ManagerOptions {
  name: string;
  /** This process's identity (the Lease holder, the Events' reporting instance). */
  identity: string;
  kubeConfig: KubeConfig;
  logger: Logger;
  /** The container the components' dependencies come from. */
  container: DependencyContainer;
  namespaces?: readonly string[];
  maxConcurrentReconciles?: number;
  leaderElection?: boolean | Partial<LeaderElectionOptions>;
  /** Metrics and probes (see `OperatorOptions.server`); `false` for none. */
  server?: false | ServerOptions;
  resyncPeriodMs?: number;
  gracefulShutdownMs?: number;
  cacheSyncTimeoutMs?: number;
  rateLimiter?: () => RateLimiter<string>;
  requestTimeoutMs?: number;
  /** How long a watch may stay silent before it is reopened (default 90 s). */
  watchIdleTimeoutMs?: number;
  /** Parents above these are refused (see `OperatorOptions.objectLimits`). */
  objectLimits?: ObjectLimits;
  /** Finalizers removed without cleanup (see `OperatorOptions.retiredFinalizers`). */
  retiredFinalizers?: readonly string[];
  /** Serve the admission and conversion webhooks of `spec.webhooks` (default: not served). */
  webhooks?: false | WebhookOptions;
}

/** The grace period of a shutdown when `gracefulShutdownMs` is not given (as the Terms' default). */
const DEFAULT_GRACE_MS = 30_000;

/** How often the keep-alive timer fires: it only has to exist. */
const KEEP_ALIVE_MS = 3_600_000;

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

function defaultLeaseNamespace(kubeConfig: KubeConfig): string {
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  return process.env.POD_NAMESPACE ?? context?.namespace ?? 'default';
}

/**
 * Owns what an operator's controllers share (controller-runtime's manager): the one API
 * transport, the informer cache, the client, the Event recorder, the metrics, the leader
 * elector and the servers of metrics and probes; builds one {@link Controller} (with its
 * {@link ReconcilePipeline}) per {@link ParentSpec}; and runs their lifecycle.
 *
 * Leadership is a lifecycle, not a flag ({@link Terms}). Controllers work in terms: a
 * term begins when this replica leads (at once without leader election) and ends when it
 * stops leading. Losing the Lease cancels the context of every reconcile in flight at once
 * (their API requests abort) and hands out no further key; the elector competes for the
 * Lease again only after every worker of the ended term has finished, so when this replica
 * leads again its controllers restart cleanly, and no key is ever worked on by two
 * workers, across terms included. A reconciler that ignores its context's cancellation and
 * is still running `gracefulShutdownMs` after the loss makes `/healthz` fail (check
 * `leader-term`), so the kubelet restarts the process (the outcome controller-runtime
 * reaches by exiting).
 */
export class Manager {
  readonly name: string;
  readonly identity: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly transport: ApiTransport;
  readonly cache: Cache;
  /** The operator's own client: cached reads of watched kinds. */
  readonly client: KubeClient;
  readonly events: KubeEventRecorder;
  readonly controllers: readonly Controller[];
  readonly elector: LeaderElector | undefined;
  /** The metrics and probe servers (none with `server: false`). */
  readonly serving: Serving | undefined;
  /** The webhook server and its certificate, when `webhooks` is set and a kind has webhooks. */
  readonly webhooks: WebhookRuntime | undefined;
  readonly #options: ManagerOptions;
  readonly #cancelRoot: (reason?: unknown) => void;
  readonly #terms: Terms;
  readonly #graceMs: number;
  #state: State = 'new';
  #leaderKnown = false;
  #stopping: Promise<boolean> | undefined;
  /** Holds the event loop open from start() to stop() (see {@link Manager.start}). */
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(spec: OperatorSpec, injection: ReadonlyMap<ParentSpec, ParentInjection>, options: ManagerOptions) {
    this.#options = options;
    this.name = options.name;
    this.identity = options.identity;
    this.logger = options.logger;
    const [rootContext, cancelRoot] = Context.background().withCancel();
    this.#cancelRoot = cancelRoot;
    this.metrics = new Metrics();
    const kubeConfig = options.kubeConfig;
    const server = new URL(kubeConfig.getCurrentCluster()?.server ?? 'http://unknown');
    const rest = this.metrics.restClient(server.host);
    this.transport = ApiTransport.create(kubeConfig, {
      userAgent: `${this.name} (maestro-operator; node ${process.version})`,
      onRequest: (request) => rest.observe(request),
      timeoutMs: options.requestTimeoutMs,
    });
    // One informer per cached kind, scoped and indexed as the declarations agree (spec.caches).
    this.cache = new Cache({
      transport: this.transport, namespaces: options.namespaces, logger: this.logger, idleTimeoutMs: options.watchIdleTimeoutMs, kinds: spec.caches, fieldManager: this.name,
    });
    this.client = new KubeClient({ transport: this.transport, resources: spec.resources, fieldManager: this.name, cache: this.cache });
    this.events = new KubeEventRecorder({ transport: this.transport, component: this.name, instance: this.identity, logger: this.logger, resources: spec.resources });
    const client = this.client;
    this.controllers = spec.parents.map((parent) => {
      const plan = injection.get(parent) ?? { scoped: [], binders: [] };
      const pipeline = new ReconcilePipeline(parent, {
        scopes: (object, reconcileClient, logger) => new ReconcileScope(options.container, parent.type, plan, object, reconcileClient, logger),
        readLive: (obj, signal) => client.readLive(obj, signal),
        events: this.events,
        limits: options.objectLimits,
        retiredFinalizers: options.retiredFinalizers,
      });
      return new Controller({
        spec: parent,
        source: this.cache,
        client,
        resources: spec.resources,
        pipeline,
        metrics: this.metrics,
        logger: this.logger,
        maxConcurrentReconciles: options.maxConcurrentReconciles,
        resyncPeriodMs: options.resyncPeriodMs,
        rateLimiter: options.rateLimiter,
      });
    });
    // Subscribe before the cache starts, so the first list announces every parent.
    for (const controller of this.controllers) controller.watch();
    this.#graceMs = options.gracefulShutdownMs ?? DEFAULT_GRACE_MS;
    this.#terms = new Terms(this.controllers, rootContext, { logger: this.logger, graceMs: this.#graceMs });
    if (options.leaderElection) {
      const le = options.leaderElection === true ? {} : options.leaderElection;
      const leaseName = le.leaseName ?? this.name;
      this.elector = new LeaderElector(this.transport, {
        ...le,
        leaseName,
        namespace: le.namespace ?? defaultLeaseNamespace(kubeConfig),
        identity: le.identity ?? this.identity,
      }, { logger: this.logger, metrics: this.metrics.leaderElection(leaseName) });
    }
    if (options.webhooks && spec.webhooks.some((w) => w.validating || w.mutating || w.conversion)) {
      this.webhooks = new WebhookRuntime(spec.webhooks, options.webhooks, { name: this.name, kubeConfig, client: this.client, logger: this.logger });
    }
    if (options.server !== false) {
      this.serving = new Serving(options.server ?? {}, {
        metrics: this.metrics,
        transport: this.transport,
        logger: this.logger,
        health: {
          ping: () => undefined,
          'leader-term': () => this.#terms.stuck,
        },
        readiness: {
          'informer-sync': () => (this.cache.synced ? undefined : 'caches not synced yet'),
          ...(this.elector ? { 'leader-election': () => (this.#leaderKnown ? undefined : 'leadership not decided yet') } : {}),
          running: () => (this.#state === 'running' ? undefined : `operator is ${this.#state}`),
        },
      });
    }
  }

  /** The base URL of `/metrics` once started (`https://[::1]:8443`; loopback when bound to every interface). */
  get metricsUrl(): string | undefined {
    return this.serving?.metrics.url;
  }

  /** The base URL of `/healthz`, `/livez` and `/readyz` once started (`http://[::1]:8081`). */
  get probesUrl(): string | undefined {
    return this.serving?.probes.url;
  }

  /** Whether this replica's controllers run (a term is active). */
  get isLeader(): boolean {
    return this.#terms.active;
  }

  /** Whether the caches are synced, the operator runs, and (with leader election) leadership is decided. */
  get ready(): boolean {
    return this.#state === 'running' && this.cache.synced && (!this.elector || this.#leaderKnown);
  }

  /**
   * Starts the metrics and probe servers and the caches, waits for them to sync, then starts the
   * controllers (at once, or each time this replica acquires the Lease).
   *
   * From here until {@link Manager.stop} the manager keeps the process alive: its own
   * timers (reconnect backoff, the elector's) do not, so without the HTTP servers a
   * process whose API server went away would otherwise just end, with exit code 0.
   *
   * @throws {@link OperatorStartError} when the caches do not sync in time (the message
   *   names the kinds), or RBAC forbids the leader-election Lease (the message names the
   *   Role it needs).
   * @throws `ServerConfigError` when a server cannot listen (a port in use) or its certificate cannot be read.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new OperatorStartError(`operator ${this.name} was already started`);
    this.#state = 'starting';
    this.#keepAlive = setInterval(() => undefined, KEEP_ALIVE_MS);
    try {
      await this.serving?.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
    // Before the caches: listing a kind stored in another version needs its conversion webhook.
    try {
      await this.webhooks?.start();
    } catch (err) {
      await this.stop();
      throw new OperatorStartError(`the webhook server did not start: ${describeError(err)}`, { cause: err });
    }
    this.cache.start();
    const timeout = this.#options.cacheSyncTimeoutMs ?? 120_000;
    try {
      await this.cache.waitForSync(AbortSignal.timeout(timeout));
    } catch (err) {
      // Described before stopping: a retry while stopping would replace the informers' last errors.
      const error = this.#syncError(err, timeout);
      await this.stop();
      throw error;
    }
    if (this.elector) {
      this.elector.start({
        onStartedLeading: () => this.#beginTerm(),
        onStoppedLeading: () => this.#loseTerm(),
        onNewLeader: (leader) => {
          this.#leaderKnown = true;
          if (leader !== this.identity) this.logger.info({ leader }, 'another instance leads');
        },
      });
      try {
        await this.elector.whenDecided();
      } catch (err) {
        await this.stop();
        throw this.#leaseStartError(err);
      }
      this.#leaderKnown = true;
    } else {
      this.#beginTerm();
    }
    if (this.#state === 'starting') this.#state = 'running';
    this.logger.info({ controllers: this.controllers.map((c) => c.name), metrics: this.metricsUrl, probes: this.probesUrl }, 'operator started');
  }

  /** Why the caches did not sync: the API server's refusal of a list, else the kinds still pending with their last errors. */
  #syncError(err: unknown, timeout: number): OperatorStartError {
    const name = (i: Informer) => `${i.resource.plural}.${i.resource.group || 'core'}${i.namespace ? ` in ${i.namespace}` : ''}`;
    if (err instanceof ApiError) {
      const refused = this.cache.all().find((i) => i.lastError === err);
      return new OperatorStartError(
        `the API server refused to list ${refused ? name(refused) : 'a cached kind'}: ${describeError(err)} `
          + '(check the labelSelector and fieldSelector given for that kind: a field selector may name only the fields the kind supports)',
        { cause: err },
      );
    }
    const pending = this.cache.all().filter((i) => !i.synced).map((i) => {
      const last = i.lastError;
      return last === undefined ? name(i) : `${name(i)} (last error: ${describeError(last)})`;
    });
    return new OperatorStartError(`caches did not sync within ${timeout} ms: ${pending.join(', ')} (is the CRD installed, and may the operator list and watch them? see the operator's log)`);
  }

  #leaseStartError(err: unknown): OperatorStartError {
    if (!(err instanceof LeaseForbiddenError)) return new OperatorStartError(`leader election failed: ${err instanceof Error ? err.message : String(err)}`);
    const { namespace, leaseName } = err;
    return new OperatorStartError(
      `leader election is forbidden: the operator ${err.message}. It needs a Role in namespace ${namespace} `
      + `(bound to its service account) with rules: apiGroups ["coordination.k8s.io"], resources ["leases"], verbs ["create"]; `
      + `and apiGroups ["coordination.k8s.io"], resources ["leases"], resourceNames ["${leaseName}"], verbs ["get", "update"]. `
      + `\`maestro-operator generate rbac --name ${this.name} --leader-election ${namespace}\` writes it as Role ${this.name}-leader-election.`,
    );
  }

  #beginTerm(): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.logger.info({ identity: this.identity }, this.elector ? 'became leader; starting controllers' : 'starting controllers');
    this.#terms.begin();
  }

  /** The elector awaits this before it competes again: every worker of the lost term has finished. */
  async #loseTerm(): Promise<void> {
    if (!this.#terms.active) return;
    this.logger.warn({ identity: this.identity }, 'lost leadership; cancelling the reconciles in flight');
    await this.#terms.lose();
    this.logger.info('every reconcile of the lost term finished; competing for the lease again');
  }

  /**
   * Stops gracefully: no new reconciles; those in flight finish (within
   * `gracefulShutdownMs`, then they are cancelled); the Lease is released so a successor
   * takes over at once; watches close; pending Events are written; the server and the
   * connection pool close. Resolves with whether the reconciles in flight finished in
   * time. Idempotent.
   */
  stop(): Promise<boolean> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<boolean> {
    this.#state = 'stopping';
    const startedAt = performance.now();
    // In-flight work gets its grace period; whatever remains is cancelled then.
    const drained = await this.#terms.stop();
    this.#cancelRoot(new ContextCanceledError({ cause: 'the operator stopped' }));
    // The release gets what is left of the grace period (at least a second): with the API
    // server unreachable it cannot succeed, and the Lease expires on its own anyway.
    const left = this.#graceMs - (performance.now() - startedAt);
    await this.elector?.stop({ releaseTimeoutMs: Math.max(1_000, left) });
    await this.cache.stop();
    await this.webhooks?.stop();
    await this.events.flush();
    await this.serving?.stop();
    await this.transport.close();
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    this.#state = 'stopped';
    this.logger.info({ drained }, 'operator stopped');
    return drained;
  }
}
