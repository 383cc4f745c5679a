/**
 * Prometheus metrics with controller-runtime's names: work queues, controllers, leader
 * election and API requests, in a registry of their own.
 *
 * @module
 */
export { Metrics } from './metrics.js';
export { RECONCILE_TIME_BUCKETS } from './controller.js';
export type { ControllerMetrics, ReconcileResult } from './controller.js';
export type { LeaderElectionMetrics } from './leader-election.js';
export type { UnhandledErrorMetrics, UnhandledErrorType } from './process.js';
export { REQUEST_DURATION_BUCKETS } from './rest-client.js';
export type { RestClientMetrics } from './rest-client.js';
export { WORKQUEUE_DURATION_BUCKETS } from './workqueue.js';
export { InvalidReconcileResultError, MetricConflictError } from './errors.js';
export type { QueueMetrics } from '../queue/index.js';
