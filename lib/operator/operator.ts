import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Counter } from 'prom-client';
import { pino } from 'pino';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import { Cache } from '../cache/index.js';
import { KubeClient } from '../client/kube-client.js';
import { ApiTransport, type RequestObserver } from '../client/transport.js';
import { Context } from '../context/index.js';
import { Controller, conditionTransitions, defaultStatusHandler } from '../controller/index.js';
import { MaestroError, describeError } from '../errors/index.js';
import { KubeEventRecorder } from '../events/index.js';
import { LeaderElector, type LeaderElectionOptions } from '../leader/index.js';
import type { Logger } from '../log/index.js';
import { Metrics } from '../metrics/index.js';
import type { RateLimiter } from '../queue/index.js';
import { discoveredComponents } from '../../decorators/metadata.js';
import { assemble, type ParentConductor } from './assembly.js';
import { OperatorServer } from './server.js';

/** Options of {@link createOperator}. Every field has a sensible default. */
export interface OperatorOptions {
  /**
   * The operator's name: its field manager for server-side apply, the component of its
   * Events, its Lease name and the `operator` field of its logs (default `maestro-operator`).
   */
  name?: string;
  /** The component classes (reconcilers, finalizers, status handlers); default: every decorated class imported so far. */
  reconcilers?: Function[];
  /** Where the API server is (default: `KUBECONFIG`, `~/.kube/config`, or the in-cluster service account). */
  kubeConfig?: KubeConfig;
  /** Watch and reconcile only these namespaces (default: all). */
  namespaces?: string[];
  /** Reconciles of different objects of one kind run at once (default 1). */
  maxConcurrentReconciles?: number;
  /** Elect a leader on a Lease so that only one replica reconciles (default off; `true` for defaults). */
  leaderElection?: boolean | Partial<LeaderElectionOptions>;
  /** The HTTP server for `/metrics`, `/healthz` and `/readyz` (default port 8080 on all interfaces; `false` for none; port 0 for any free port). */
  server?: false | { port?: number; host?: string };
  /** The logger (default: pino JSON to stdout at `logLevel`). */
  logger?: Logger;
  /** pino level of the default logger (default `info`, or `LOG_LEVEL`). */
  logLevel?: string;
  /** The container user registrations live in (default: tsyringe's global container). */
  container?: DependencyContainer;
  /** Re-reconcile every parent this often (default: never). */
  resyncPeriodMs?: number;
  /** How long shutdown waits for reconciles in flight (default 30 s). */
  gracefulShutdownMs?: number;
  /** How long `start()` waits for the caches to sync (default 120 s). */
  cacheSyncTimeoutMs?: number;
  /** Per-key backoff and overall rate limit of the work queues (default: 5 ms doubling to 1000 s, and 10 qps / burst 100). */
  rateLimiter?: () => RateLimiter<string>;
}

/** `start()` could not bring the operator up (e.g. a CRD is not installed, or RBAC forbids a watch). */
export class OperatorStartError extends MaestroError {
  readonly code = 'OperatorStart';
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * A running operator: the cache, one controller per parent type, leader election, the
 * HTTP server and graceful shutdown. Create it with {@link createOperator}.
 */
export class Operator {
  readonly name: string;
  readonly identity: string;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The operator's own client (cached reads of watched kinds). */
  readonly client: KubeClient;
  readonly cache: Cache;
  /** What was assembled for each parent type. */
  readonly parents: readonly ParentConductor[];
  readonly controllers: readonly Controller[];
  readonly #options: OperatorOptions;
  readonly #events: KubeEventRecorder;
  readonly #elector: LeaderElector | undefined;
  readonly #server: OperatorServer | undefined;
  readonly #abort = new AbortController();
  #state: State = 'new';
  #address: string | undefined;
  #leading = false;
  #leaderKnown = false;
  #signalHandler: (() => void) | undefined;

  /** @internal Use {@link createOperator}. */
  constructor(options: OperatorOptions) {
    this.#options = options;
    this.name = options.name ?? 'maestro-operator';
    this.identity = `${hostname()}_${randomBytes(4).toString('hex')}`;
    this.logger = options.logger ?? pino({ level: options.logLevel ?? process.env.LOG_LEVEL ?? 'info', base: { operator: this.name } });
    const kubeConfig = options.kubeConfig ?? loadKubeConfig();
    this.metrics = new Metrics();
    const requests = new Counter({
      name: 'rest_client_requests_total',
      help: 'Number of HTTP requests, partitioned by status code, method, and host.',
      labelNames: ['code', 'method', 'host'],
      registers: [this.metrics.registry],
    });
    const host = new URL(kubeConfig.getCurrentCluster()?.server ?? 'http://unknown').host;
    const onRequest: RequestObserver = ({ method, statusCode }) => requests.inc({ code: statusCode === 0 ? '<error>' : String(statusCode), method, host });
    const transport = ApiTransport.create(kubeConfig, { userAgent: this.name, onRequest });
    this.cache = new Cache({ kubeConfig, transport, namespaces: options.namespaces, logger: this.logger, onRequest });
    this.client = new KubeClient({ transport, fieldManager: this.name, cache: this.cache });
    this.#events = new KubeEventRecorder({ transport, component: this.name, instance: this.identity, logger: this.logger });
    const context = Context.background().withSignal(this.#abort.signal);
    const client = this.client;
    this.parents = assemble(options.reconcilers ?? discoveredComponents(), {
      container: options.container ?? globalContainer,
      client,
      logger: this.logger,
      context,
      defaultStatusHandler: (resource) => defaultStatusHandler(resource, (obj) => client.readLive(obj)),
      observeConditions: (parent, conditions) => this.#recordTransitions(parent, conditions),
    });
    this.controllers = this.parents.map((parent) => new Controller({
      parent,
      cache: this.cache,
      client,
      metrics: this.metrics,
      events: this.#events,
      logger: this.logger,
      context,
      maxConcurrentReconciles: options.maxConcurrentReconciles,
      resyncPeriodMs: options.resyncPeriodMs,
      rateLimiter: options.rateLimiter?.(),
    }));
    // Subscribe before the cache starts, so the first list enqueues every parent.
    for (const controller of this.controllers) controller.watch();
    if (options.leaderElection) {
      const le = options.leaderElection === true ? {} : options.leaderElection;
      this.#elector = new LeaderElector(kubeConfig, {
        ...le,
        leaseName: le.leaseName ?? this.name,
        namespace: le.namespace ?? defaultLeaseNamespace(kubeConfig),
        identity: le.identity ?? this.identity,
      }, { logger: this.logger, metrics: this.metrics.leaderElection(le.leaseName ?? this.name) });
    }
    if (options.server !== false) {
      this.#server = new OperatorServer(this.metrics, {
        ping: () => undefined,
      }, {
        'informer-sync': () => (this.cache.synced ? undefined : 'caches not synced yet'),
        ...(this.#elector ? { 'leader-election': () => (this.#leaderKnown ? undefined : 'leadership not decided yet') } : {}),
        running: () => (this.#state === 'running' ? undefined : `operator is ${this.#state}`),
      });
    }
  }

  /** The base URL of the HTTP server, once started. */
  get url(): string | undefined {
    return this.#address;
  }

  /** Whether this instance reconciles (always true without leader election, once started). */
  get isLeader(): boolean {
    return this.#leading;
  }

  /** Whether the caches are synced and the operator is running. */
  get ready(): boolean {
    return this.#state === 'running' && this.cache.synced && (!this.#elector || this.#leaderKnown);
  }

  /**
   * Starts the HTTP server, the caches and (once leader, or at once without leader
   * election) the controllers. Resolves when the caches are synced.
   *
   * @param options.handleSignals stop gracefully and exit 0 on SIGTERM / SIGINT (default true).
   * @throws {@link OperatorStartError} when the caches do not sync in time (the message names the kinds and the last error).
   */
  async start(options: { handleSignals?: boolean } = {}): Promise<void> {
    if (this.#state !== 'new') throw new OperatorStartError(`operator ${this.name} was already started`);
    this.#state = 'starting';
    if (options.handleSignals ?? true) this.#installSignalHandlers();
    if (this.#server) {
      const { port = 8080, host = '0.0.0.0' } = this.#options.server || {};
      const address = await this.#server.listen(port, host);
      this.#address = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    }
    this.cache.start();
    const timeout = this.#options.cacheSyncTimeoutMs ?? 120_000;
    const signal = AbortSignal.any([AbortSignal.timeout(timeout), this.#abort.signal]);
    try {
      await this.cache.waitForSync(signal);
    } catch {
      const pending = this.cache.all().filter((i) => !i.synced).map((i) => `${i.resource.plural}.${i.resource.group || 'core'}`);
      await this.stop();
      throw new OperatorStartError(`caches did not sync within ${timeout} ms: ${pending.join(', ')} (is the CRD installed, and may the operator list and watch them? see the operator's log)`);
    }
    if (this.#elector) {
      this.#elector.start({
        onStartedLeading: () => {
          this.#leading = true;
          this.#leaderKnown = true;
          this.logger.info({ identity: this.identity }, 'became leader; starting controllers');
          for (const controller of this.controllers) controller.start();
        },
        onStoppedLeading: () => {
          const was = this.#leading;
          this.#leading = false;
          if (!was) return;
          this.logger.warn({ identity: this.identity }, 'lost leadership; stopping controllers');
          for (const controller of this.controllers) void controller.stop(this.#options.gracefulShutdownMs ?? 30_000);
        },
        onNewLeader: (leader) => {
          this.#leaderKnown = true;
          if (leader !== this.identity) this.logger.info({ leader }, 'another instance leads');
        },
      });
      await this.#elector.whenDecided();
      this.#leaderKnown = true;
    } else {
      this.#leading = true;
      for (const controller of this.controllers) controller.start();
    }
    this.#state = 'running';
    this.logger.info({ controllers: this.controllers.map((c) => c.name), url: this.#address }, 'operator started');
  }

  /**
   * Stops gracefully: no new reconciles; those in flight finish (within
   * `gracefulShutdownMs`); the Lease is released so a successor takes over at once;
   * watches close; pending Events are written; the server closes. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'stopping';
    const grace = this.#options.gracefulShutdownMs ?? 30_000;
    const finished = await Promise.all(this.controllers.map((c) => c.stop(grace)));
    // In-flight work had its grace period; whatever remains is cancelled now.
    this.#abort.abort();
    await this.#elector?.stop();
    this.#leading = false;
    await this.cache.stop();
    await this.#events.flush();
    await this.#server?.close();
    if (this.#signalHandler) {
      process.off('SIGTERM', this.#signalHandler);
      process.off('SIGINT', this.#signalHandler);
    }
    this.#state = 'stopped';
    this.logger.info({ drained: finished.every(Boolean) }, 'operator stopped');
  }

  #installSignalHandlers(): void {
    let stopping = false;
    this.#signalHandler = () => {
      if (stopping) return;
      stopping = true;
      this.logger.info('signal received; shutting down');
      this.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          this.logger.error({ err: describeError(err) }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', this.#signalHandler);
    process.once('SIGINT', this.#signalHandler);
  }

  /**
   * Events for condition changes: a status that changed, or a condition that appears False
   * or Unknown. A condition appearing True is the expected course and records none (an
   * Event per new object would double a healthy operator's API writes).
   */
  #recordTransitions(parent: KubernetesObject, conditions: Parameters<typeof conditionTransitions>[1]): void {
    for (const { condition, previous } of conditionTransitions(parent, conditions)) {
      if (previous === undefined && condition.status === 'True') continue;
      const warning = condition.status === 'False' && condition.type === 'Ready';
      const from = previous ? `${previous} -> ` : '';
      this.#events.event(parent, warning ? 'Warning' : 'Normal', condition.reason,
        `${condition.type}: ${from}${condition.status}${condition.message ? `: ${condition.message}` : ''}`);
    }
  }
}

function loadKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}

function defaultLeaseNamespace(kubeConfig: KubeConfig): string {
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  return process.env.POD_NAMESPACE ?? context?.namespace ?? 'default';
}

/**
 * Assembles an operator from decorated classes: one controller per `@Parent` type, with
 * its reconcilers in `@Reconciles` order. Configuration problems (a missing `@Parent`,
 * duplicate orders, unknown kinds, unresolvable constructor parameters) throw here, not
 * at the first reconcile. Nothing connects to the cluster until `start()`.
 *
 * @example
 * ```ts
 * const operator = createOperator({ name: 'static-site-operator', reconcilers: [PlanReconciler, ConfigMapReconciler] });
 * await operator.start(); // SIGTERM / SIGINT stop it gracefully
 * ```
 */
export function createOperator(options: OperatorOptions = {}): Operator {
  return new Operator(options);
}
