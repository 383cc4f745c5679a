/**
 * Kubernetes Events for what an operator does (reconcile errors, condition
 * transitions), visible with `kubectl describe` and `kubectl events`; correlated as
 * client-go does so that no object can make the operator flood the API server.
 *
 * @module
 */
export { COMBINED_PREFIX, EventCorrelator } from './correlator.js';
export type { Correlation, CorrelatorOptions, EventPatch } from './correlator.js';
export { KubeEventRecorder, noopEventRecorder, transportEventSink } from './recorder.js';
export type { EventRecorder, EventRecorderOptions, EventSink, EventType } from './recorder.js';
