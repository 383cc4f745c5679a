/**
 * Maestro: a decorator-based TypeScript SDK for Kubernetes operators.
 *
 * Everything users need is exported from here; the subpaths `maestro-operator/conductor`,
 * `/binder`, `/api`, `/decorators` and `/testing` mirror the original Go packages.
 *
 * @module
 */
import 'reflect-metadata';

export type { Cleaner, Condition, ConditionStatus, HandlesStatusConditions, NewCondition, Reconciler, Result } from './api/index.js';
export { TerminalError, isTerminal } from './api/index.js';
export { Context, ContextCanceledError, ContextKey, DeadlineExceededError } from './context/index.js';
export { MaestroError } from './errors/index.js';
export { Logger, loggerFrom, noopLogger, withLogger } from './log/index.js';
export * from './conductor/index.js';
export { InvalidBindingError, NotBoundError, StaticBindable } from './binder/index.js';
export { Client, StatusClient } from './client/client.js';
export type {
  ApplyOptions, DeleteOptions, JsonPatchOperation, ListOptions, ObjectKey, PatchOptions, PatchType, WriteOptions,
} from './client/client.js';
export {
  ApiError, isAlreadyExists, isConflict, isForbidden, isGone, isInvalid, isNotFound,
} from './client/errors.js';
export type { ApiStatus } from './client/errors.js';
export {
  customResources, defineResource, InvalidResourceError, knownResources, resourceOf, tryResourceOf, UnknownResourceError,
} from './resources/index.js';
export type { ResourceClass, ResourceDeclaration, ResourceInfo } from './resources/index.js';
export { KubeClient, AlreadyOwnedError, InvalidObjectError } from './client/kube-client.js';
export type { KubeClientOptions } from './client/kube-client.js';
export { ApiTransport } from './client/transport.js';
export type { RequestObserver, TransportOptions } from './client/transport.js';
export { Cache, Informer, InvalidSelectorError, parseLabelSelector } from './cache/index.js';
export type { CacheReader, InformerHandler, InformerStats, LabelSelector } from './cache/index.js';
export { Controller } from './controller/index.js';
export type { ControllerOptions } from './controller/index.js';
export { KubeEventRecorder, noopEventRecorder } from './events/index.js';
export type { EventRecorder, EventType } from './events/index.js';
export { Metrics } from './metrics/index.js';
export type { ControllerMetrics, LeaderElectionMetrics, QueueMetrics, ReconcileResult } from './metrics/index.js';
export { WorkQueue, defaultControllerRateLimiter, ExponentialFailureRateLimiter, BucketRateLimiter, MaxOfRateLimiter } from './queue/index.js';
export type { RateLimiter } from './queue/index.js';
export { LeaderElector } from './leader/index.js';
export type { LeaderElectionOptions, LeaderCallbacks } from './leader/index.js';
export { SpecValidation, describeViolations, hasValidation, validateResource } from './validation/index.js';
export type { Violation } from './validation/index.js';
export * from './operator/index.js';
export * from './generate/index.js';
export * from '../decorators/index.js';
