/**
 * `createOperator()`: declared classes turned into a running operator.
 *
 * @module
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import { Registry, type ComponentClass } from '../declare/registry.js';
import { OperatorConfigurationError, collectSpecs, type OperatorSpec, type ParentSpec } from '../declare/specs.js';
import { describeError } from '../errors/index.js';
import type { LeaderElectionOptions } from '../leader/index.js';
import { objectLimitsProblems, type ObjectLimits } from '../limits/index.js';
import { isFinalizerName } from '../api/names.js';
import type { Client } from '../client/client.js';
import type { Logger } from '../log/index.js';
import type { RateLimiter } from '../queue/index.js';
import { exitWhenDrained } from './exit.js';
import { guardProcess } from './guard.js';
import { memoryModeProblems, optimizeForSize, type MemoryModeOptions } from './memory.js';
import { planInjection, type ParentInjection } from './injection.js';
import { Manager, OperatorStartError } from './manager.js';
import type { ServerOptions } from './serving.js';
import type { WebhookOptions } from './webhooks.js';

/**
 * Options of {@link createOperator}. Every field has a sensible default.
 *
 * @example
 * ```ts
 * const options: OperatorOptions = { name: 'site-operator', namespaces: ['web'], leaderElection: true, maxConcurrentReconciles: 4 };
 * const local: OperatorOptions = { server: { secure: false } }; // development: http://localhost:8080/metrics, no authentication
 * ```
 */
export interface OperatorOptions {
  /**
   * The operator's name: its field manager for server-side apply, the component of its
   * Events, its Lease name, the `operator` field of its logs and the start of its
   * User-Agent (default `maestro-operator`).
   */
  name?: string;
  /** The component classes (reconcilers, finalizers, status handlers); default: every component class of `registry`. */
  reconcilers?: ComponentClass[];
  /** Where the decorators recorded the declarations (default: `Registry.default`). */
  registry?: Registry;
  /** Where the API server is (default: `KUBECONFIG`, `~/.kube/config`, or the in-cluster service account). */
  kubeConfig?: KubeConfig;
  /** Watch and reconcile only these namespaces (default: all). */
  namespaces?: string[];
  /** Reconciles of different objects of one kind run at once (default 1). */
  maxConcurrentReconciles?: number;
  /**
   * Elect a leader on a Lease so that only one replica reconciles (default off; `true` for
   * defaults: the Lease `name` in `POD_NAMESPACE` or the kubeconfig's namespace, 15 s / 10 s / 2 s).
   * On losing the Lease the reconciles in flight are cancelled; the replica competes again
   * once all of them finished, and restarts its controllers when it leads again.
   */
  leaderElection?: boolean | Partial<LeaderElectionOptions>;
  /**
   * Serving of `/metrics` and the probes (see {@link ServerOptions}). Default: metrics over
   * HTTPS on 8443 behind TokenReview + SubjectAccessReview, with a self-signed certificate;
   * `/healthz`, `/livez`, `/readyz` on plain HTTP 8081; every interface, IPv6 and IPv4.
   * `{ secure: false }`: metrics over plain HTTP on 8080 without authentication, for local
   * development only. `false`: no server at all.
   */
  server?: false | ServerOptions;
  /** The logger (default: pino JSON to stdout at `logLevel`). */
  logger?: Logger;
  /** pino level of the default logger (default `info`, or `LOG_LEVEL`). */
  logLevel?: string;
  /** The container user registrations live in (default: tsyringe's global container). */
  container?: DependencyContainer;
  /** Re-reconcile every parent this often (default: never). */
  resyncPeriodMs?: number;
  /** How long shutdown waits for reconciles in flight before cancelling them (default 30 s). */
  gracefulShutdownMs?: number;
  /** How long `start()` waits for the caches to sync (default 120 s). */
  cacheSyncTimeoutMs?: number;
  /** Per-key backoff and overall rate limit of the work queues (default: 5 ms doubling to 1000 s, and 10 qps / burst 100). */
  rateLimiter?: () => RateLimiter<string>;
  /** The deadline of every API request except watches (default 30 s). */
  requestTimeoutMs?: number;
  /**
   * Parents above these limits are not reconciled: they get `Ready=False` with reason
   * `ObjectTooLarge` or `ObjectTooDeep` and a Warning Event, and are not retried until they
   * change (their cleanups do not run either). The check walks the object without
   * recursion, before anything else touches it. Default `{ maxBytes: 3 MiB, maxDepth: 100 }`:
   * every object the API server can store, nested at most 100 levels (the API server
   * accepts 10,000, far more than recursive code such as validation survives).
   * `maxDepth` may be at most 1000.
   *
   * @example
   * ```ts
   * createOperator({ objectLimits: { maxBytes: 256 * 1024, maxDepth: 32 } });
   * ```
   */
  objectLimits?: ObjectLimits;
  /**
   * Finalizers this operator no longer declares (a `@Finalizer` that was removed or
   * renamed): the runtime removes them from every parent it reconciles, without any
   * cleanup, so objects that still carry them do not stay Terminating forever (default none).
   *
   * @example
   * ```ts
   * createOperator({ retiredFinalizers: ['sites.example.com/legacy-dns'] });
   * ```
   */
  retiredFinalizers?: string[];
  /**
   * Serve the admission (validating, defaulting) and conversion webhooks of the parent
   * kinds over HTTPS (default: not served; `{}` for port 9443 with the operator's own CA,
   * kept in a Secret and injected into the webhook configurations and CRDs).
   */
  webhooks?: false | WebhookOptions;
}

/**
 * A running operator: one controller per parent kind on a shared {@link Manager}.
 * Create it with {@link createOperator}.
 *
 * @example
 * ```ts
 * const operator = createOperator({ name: 'site-operator' });
 * await operator.start({ handleSignals: false });
 * console.log(operator.metricsUrl, operator.probesUrl, operator.isLeader, operator.spec.parents.map((p) => p.name));
 * await operator.stop();
 * ```
 */
export class Operator {
  readonly name: string;
  /** This process's identity: the Lease holder, the Events' reporting instance. */
  readonly identity: string;
  /** What the operator runs: one parent spec per controller. */
  readonly spec: OperatorSpec;
  /** The runtime: transport, cache, client, Events, metrics, elector, server, controllers. */
  readonly manager: Manager;
  #signalHandler: (() => void) | undefined;
  #unguard: (() => void) | undefined;

  /** Prefer {@link createOperator}, which builds and checks the specs. */
  constructor(spec: OperatorSpec, manager: Manager) {
    this.spec = spec;
    this.manager = manager;
    this.name = manager.name;
    this.identity = manager.identity;
  }

  /** The base URL of `/metrics` once started (`https://[::1]:8443`, or `http://…` when not secure). */
  get metricsUrl(): string | undefined {
    return this.manager.metricsUrl;
  }

  /** The base URL of `/healthz`, `/livez` and `/readyz` once started (`http://[::1]:8081`). */
  get probesUrl(): string | undefined {
    return this.manager.probesUrl;
  }

  /** Whether this replica's controllers run (always, once started, without leader election). */
  get isLeader(): boolean {
    return this.manager.isLeader;
  }

  /** Whether the caches are synced and the operator is running. */
  get ready(): boolean {
    return this.manager.ready;
  }

  /**
   * The operator's client, bound to no parent (applies set no owner reference): reads of a
   * cached kind come from the cache (`list` with `index` too), others go to the API server.
   * Use it once {@link start} has resolved: until the caches are synced, a cached kind reads
   * as empty. For scripts, tests and HTTP handlers beside the controllers; a reconciler gets
   * its own from its arguments.
   *
   * @example
   * ```ts
   * await operator.start();
   * const sites = await operator.client.list(StaticSite, { namespace: 'web', index: { 'spec.themeRef': 'house' } });
   * ```
   */
  get client(): Client {
    return this.manager.client;
  }

  /**
   * Starts the metrics and probe servers, the caches and (once leader, or at once without leader
   * election) the controllers. Resolves when the caches are synced and leadership is
   * decided.
   *
   * A started operator keeps the process alive until {@link Operator.stop}.
   *
   * @param options.handleSignals stop gracefully and exit 0 on SIGTERM / SIGINT (default true).
   * @param options.guardProcess the last line of defence (default true): an unhandled
   *   promise rejection or uncaught exception anywhere in the process is logged and counted
   *   (`maestro_unhandled_errors_total{type}`) instead of ending it, until `stop()`.
   * @param options.optimizeForSize from here on, V8 favours memory over speed while the live
   *   heap is near what the modules take (default true, i.e. until the live heap has grown
   *   by 24 MiB since `start()`, and again once it is back below three quarters of that):
   *   between full collections the heap may grow by a quarter of the live data, at least
   *   8 MiB (`--heap-growing-percent=25`), a lower peak for some more CPU. Set after the
   *   modules are loaded and before the caches fill. Beyond the bound, where the mode's CPU
   *   cost grows with the heap, the heap may grow to twice the live data (as Go's
   *   `GOGC=100`). The heap is looked at once a second. `{ untilHeapGrowthMiB }` moves the
   *   bound (`Infinity`: always; `0`: only until the heap grows at all, for good). Each switch is
   *   logged at info (`optimizeForSize`, `liveHeapMiB`, `boundMiB`). A process started with
   *   its own `--heap-growing-percent=N` or `--optimize-for-size` keeps it (the mode stays
   *   off and logs why). Process-wide: the first `start()`'s choice holds for the life of
   *   the process, also after `stop()` or a failed start. `false` keeps V8's defaults, e.g.
   *   in a process that serves more than the operator.
   *   Example: `start({ optimizeForSize: { untilHeapGrowthMiB: 128 } })`.
   * @throws `OperatorStartError` when the caches do not sync in time (the message names the
   *   kinds), or the leader-election Lease is forbidden (the message names the Role needed).
   * @throws `OperatorConfigurationError` for an `optimizeForSize` that is not a boolean or
   *   `{ untilHeapGrowthMiB }` with a number ≥ 0, before anything changes in the process.
   * @throws `ServerConfigError` when a server cannot listen (e.g. its port is in use).
   */
  async start(options: { handleSignals?: boolean; guardProcess?: boolean; optimizeForSize?: boolean | MemoryModeOptions } = {}): Promise<void> {
    const problems = memoryModeProblems(options.optimizeForSize);
    const memoryMode = options.optimizeForSize ?? true;
    if (problems.length > 0) throw new OperatorConfigurationError(problems);
    if (options.handleSignals ?? true) this.#installSignalHandlers();
    if (options.guardProcess ?? true) this.#unguard = guardProcess(this.manager.logger, this.manager.metrics.unhandledErrors());
    // Here, after the modules are loaded (the mode's bound is measured from what they take) and before the caches fill.
    if (memoryMode !== false) optimizeForSize(memoryMode === true ? {} : memoryMode, this.manager.logger);
    try {
      await this.manager.start();
    } catch (err) {
      this.#release();
      throw err;
    }
  }

  /**
   * Stops gracefully: no new reconciles; those in flight finish (within
   * `gracefulShutdownMs`, then they are cancelled); the Lease is released so a successor
   * takes over at once; watches close; pending Events are written; the servers close.
   * Idempotent.
   */
  async stop(): Promise<void> {
    try {
      await this.manager.stop();
    } finally {
      this.#release();
    }
  }

  /** Removes what start() installed on the process. */
  #release(): void {
    if (this.#signalHandler) {
      process.off('SIGTERM', this.#signalHandler);
      process.off('SIGINT', this.#signalHandler);
      this.#signalHandler = undefined;
    }
    this.#unguard?.();
    this.#unguard = undefined;
  }

  #installSignalHandlers(): void {
    let stopping = false;
    this.#signalHandler = () => {
      if (stopping) return;
      stopping = true;
      this.manager.logger.info('signal received; shutting down');
      const stillBusy = () => this.manager.logger.warn({ graceMs: EXIT_GRACE_MS }, 'the event loop is still busy after the operator stopped (a timer or socket of its own?); exiting with process.exit');
      this.stop().then(
        () => exitWhenDrained(0, EXIT_GRACE_MS, stillBusy),
        (err: unknown) => {
          this.manager.logger.error({ err: describeError(err) }, 'shutdown failed');
          exitWhenDrained(1, EXIT_GRACE_MS, stillBusy);
        },
      );
    };
    process.once('SIGTERM', this.#signalHandler);
    process.once('SIGINT', this.#signalHandler);
  }
}

/** After a signal and a stop, how long the process may take to end on its own before `process.exit`. */
const EXIT_GRACE_MS = 2_000;

function loadKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}

/**
 * Builds an operator from declared classes: their specs (one controller per `@Parent`
 * kind, its reconcilers in `@Reconciles` order) and their dependency injection are
 * checked here, and every problem is reported at once (a missing `@Parent`, duplicate
 * orders, unknown kinds, constructor parameters nobody provides), not at the first
 * reconcile. Nothing connects to the cluster until `start()`.
 *
 * @throws `OperatorConfigurationError` listing every problem found; `ServerConfigError` for invalid `server` options.
 * @example
 * ```ts
 * const operator = createOperator({ name: 'static-site-operator', reconcilers: [PlanReconciler, ConfigMapReconciler] });
 * await operator.start(); // SIGTERM / SIGINT stop it gracefully
 * ```
 */
export function createOperator(options: OperatorOptions = {}): Operator {
  const registry = options.registry ?? Registry.default;
  const container = options.container ?? globalContainer;
  const { spec, problems } = collectSpecs({ registry, components: options.reconcilers });
  const injection = new Map<ParentSpec, ParentInjection>();
  for (const parent of spec.parents) {
    const planned = planInjection(parent, registry, container);
    injection.set(parent, planned.plan);
    problems.push(...planned.problems);
  }
  problems.push(...objectLimitsProblems(options.objectLimits));
  const declared = new Set(spec.parents.flatMap((p) => p.finalizers));
  for (const retired of options.retiredFinalizers ?? []) {
    if (!isFinalizerName(retired)) problems.push(`retiredFinalizers: ${JSON.stringify(retired)} is not a finalizer name (such as example.com/cleanup)`);
    else if (declared.has(retired)) problems.push(`retiredFinalizers: ${retired} is still declared with @Finalizer; retire it by removing the declaration`);
  }
  if (problems.length > 0) throw new OperatorConfigurationError(problems);
  const name = options.name ?? 'maestro-operator';
  const logger = options.logger ?? pino({ level: options.logLevel ?? process.env.LOG_LEVEL ?? 'info', base: { operator: name } });
  const manager = new Manager(spec, injection, {
    name,
    identity: `${hostname()}_${randomBytes(4).toString('hex')}`,
    kubeConfig: options.kubeConfig ?? loadKubeConfig(),
    logger,
    container,
    namespaces: options.namespaces,
    maxConcurrentReconciles: options.maxConcurrentReconciles,
    leaderElection: options.leaderElection,
    server: options.server,
    resyncPeriodMs: options.resyncPeriodMs,
    gracefulShutdownMs: options.gracefulShutdownMs,
    cacheSyncTimeoutMs: options.cacheSyncTimeoutMs,
    rateLimiter: options.rateLimiter,
    requestTimeoutMs: options.requestTimeoutMs,
    objectLimits: options.objectLimits,
    retiredFinalizers: options.retiredFinalizers,
    webhooks: options.webhooks,
  });
  return new Operator(spec, manager);
}

export { OperatorStartError };
