import { Registry } from 'prom-client';
import type { QueueMetrics } from '../queue/index.js';
import { ControllerFamilies, type ControllerMetrics } from './controller.js';
import { LeaderElectionFamilies, type LeaderElectionMetrics } from './leader-election.js';
import { ProcessFamilies, type UnhandledErrorMetrics } from './process.js';
import { RestClientFamilies, type RestClientMetrics } from './rest-client.js';
import { WorkqueueFamilies } from './workqueue.js';

/**
 * An operator's Prometheus metrics, with the names, help texts, labels and buckets of
 * controller-runtime, so dashboards and alerts made for Go operators apply unchanged.
 *
 * Each instance uses its own new registry unless given one (never prom-client's global
 * registry), so two operators in one process do not collide. Several instances may share
 * a registry: they then add series to the same metric families.
 *
 * @example
 * ```ts
 * const metrics = new Metrics();
 * const queue = new WorkQueue({ name: 'web', metrics: metrics.queue('web') });
 * const reconciles = metrics.controller('web');
 * http.createServer(async (_req, res) => {
 *   res.setHeader('Content-Type', metrics.contentType);
 *   res.end(await metrics.text());
 * });
 * ```
 */
export class Metrics {
  /** The registry the metrics are registered in. */
  readonly registry: Registry;
  readonly #workqueue: WorkqueueFamilies;
  readonly #controllers: ControllerFamilies;
  readonly #leaderElection: LeaderElectionFamilies;
  readonly #restClient: RestClientFamilies;
  readonly #process: ProcessFamilies;

  constructor(options: { registry?: Registry } = {}) {
    this.registry = options.registry ?? new Registry();
    this.#workqueue = new WorkqueueFamilies(this.registry);
    this.#controllers = new ControllerFamilies(this.registry);
    this.#leaderElection = new LeaderElectionFamilies(this.registry);
    this.#restClient = new RestClientFamilies(this.registry);
    this.#process = new ProcessFamilies(this.registry);
  }

  /**
   * Hooks for a `WorkQueue` named `name`: the `workqueue_*` metrics labelled
   * `{name, controller}` (both the queue name, as controller-runtime), depth also `{priority=""}`.
   */
  queue(name: string): QueueMetrics {
    return this.#workqueue.queue(name);
  }

  /** The `controller_runtime_*` metrics of controller `name`, labelled `{controller}`. */
  controller(name: string): ControllerMetrics {
    return this.#controllers.controller(name);
  }

  /** `leader_election_master_status{name}` for the lease `name`. */
  leaderElection(name: string): LeaderElectionMetrics {
    return this.#leaderElection.leaderElection(name);
  }

  /** The `rest_client_*` metrics of requests to the API server at `host`. */
  restClient(host: string): RestClientMetrics {
    return this.#restClient.restClient(host);
  }

  /** `maestro_unhandled_errors_total{type}`: errors the process guard caught and survived. */
  unhandledErrors(): UnhandledErrorMetrics {
    return this.#process.unhandledErrors();
  }

  /** The Content-Type of {@link Metrics.text}'s output, for a `/metrics` response. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The metrics in Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
