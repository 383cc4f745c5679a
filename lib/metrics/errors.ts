import { MaestroError } from '../errors/index.js';

/**
 * A registry already holds a metric of the same name but another type or other labels,
 * so Maestro cannot share it (e.g. an application registered its own `workqueue_depth`).
 */
export class MetricConflictError extends MaestroError {
  readonly code = 'MetricConflict';
  constructor(readonly metric: string, detail: string) {
    super(`metric ${metric} is already registered with ${detail}`);
  }
}

/** `ControllerMetrics.reconciled` was given a result other than success, error, requeue or requeue_after. */
export class InvalidReconcileResultError extends MaestroError {
  readonly code = 'InvalidReconcileResult';
  constructor(readonly result: unknown) {
    super(`invalid reconcile result ${String(result)}: expected success, error, requeue or requeue_after`);
  }
}
