import type { Registry } from 'prom-client';
import { InvalidReconcileResultError } from './errors.js';
import { counter, gauge, histogram } from './families.js';

/** How a reconcile ended, the `result` label of `controller_runtime_reconcile_total`. */
export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

const RESULTS: ReadonlySet<string> = new Set<ReconcileResult>(['success', 'error', 'requeue', 'requeue_after']);

/** controller-runtime's `controller_runtime_reconcile_time_seconds` buckets (pkg/internal/controller/metrics). */
export const RECONCILE_TIME_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
  1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
]);

/**
 * What a controller reports about its reconciles, as controller-runtime's
 * `controller_runtime_*` metrics labelled `{controller}`. The controller calls, per key:
 * `addActiveWorkers(1)` when a worker takes it, `reconciled(result, seconds)` when the
 * reconcile ends (plus `terminalError()` or `timedOut()` when that is why it failed), and
 * `addActiveWorkers(-1)` when the worker lets it go.
 *
 * @example
 * ```ts
 * const m = metrics.controller('web');
 * m.setMaxConcurrentReconciles(4);
 * m.addActiveWorkers(1);
 * const started = performance.now();
 * try {
 *   const result = await conductor.conduct(ctx, parent);
 *   m.reconciled(result.requeueAfter ? 'requeue_after' : result.requeue ? 'requeue' : 'success', (performance.now() - started) / 1000);
 * } catch (err) {
 *   m.reconciled('error', (performance.now() - started) / 1000);
 * } finally {
 *   m.addActiveWorkers(-1);
 * }
 * ```
 */
export interface ControllerMetrics {
  /**
   * One reconcile finished with `result`, after `seconds`: counts
   * `controller_runtime_reconcile_total{result}`, observes
   * `controller_runtime_reconcile_time_seconds`, and for `'error'` also counts
   * `controller_runtime_reconcile_errors_total` (as controller-runtime, terminal errors included).
   */
  reconciled(result: ReconcileResult, seconds: number): void;
  /** The failed reconcile's error is terminal (not retried): `controller_runtime_terminal_reconcile_errors_total`. Call with `reconciled('error', …)`. */
  terminalError(): void;
  /** The failed reconcile hit the controller's reconcile timeout: `controller_runtime_reconcile_timeouts_total`. Call with `reconciled('error', …)`. */
  timedOut(): void;
  /** Sets `controller_runtime_max_concurrent_reconciles` (the worker count), once at start. */
  setMaxConcurrentReconciles(count: number): void;
  /** Changes `controller_runtime_active_workers` by `delta` (+1 when a worker takes a key, -1 when it is done). */
  addActiveWorkers(delta: number): void;
}

/** @internal The `controller_runtime_*` metric families of one registry. */
export class ControllerFamilies {
  readonly total;
  readonly errors;
  readonly terminalErrors;
  readonly timeouts;
  readonly time;
  readonly workerCount;
  readonly activeWorkers;

  constructor(registry: Registry) {
    this.total = counter(registry, {
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
    });
    this.errors = counter(registry, {
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
    });
    this.terminalErrors = counter(registry, {
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
    });
    this.timeouts = counter(registry, {
      name: 'controller_runtime_reconcile_timeouts_total',
      help: 'Total number of reconciliation timeouts per controller',
      labelNames: ['controller'],
    });
    this.time = histogram(registry, {
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: RECONCILE_TIME_BUCKETS,
    });
    this.workerCount = gauge(registry, {
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
    });
    this.activeWorkers = gauge(registry, {
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
    });
  }

  /**
   * The metrics of controller `name`, with the series controller-runtime's `initMetrics`
   * creates set to zero, so scrapes show them before the first reconcile. The
   * reconcile-time histogram appears with the first observation, as there.
   */
  controller(name: string): ControllerMetrics {
    const labels = { controller: name };
    for (const result of RESULTS) this.total.inc({ controller: name, result }, 0);
    this.errors.inc(labels, 0);
    this.terminalErrors.inc(labels, 0);
    this.timeouts.inc(labels, 0);
    this.activeWorkers.inc(labels, 0);
    return {
      reconciled: (result, seconds) => {
        if (!RESULTS.has(result)) throw new InvalidReconcileResultError(result);
        this.total.inc({ controller: name, result });
        if (result === 'error') this.errors.inc(labels);
        this.time.observe(labels, seconds);
      },
      terminalError: () => this.terminalErrors.inc(labels),
      timedOut: () => this.timeouts.inc(labels),
      setMaxConcurrentReconciles: (count) => this.workerCount.set(labels, count),
      addActiveWorkers: (delta) => this.activeWorkers.inc(labels, delta),
    };
  }
}
