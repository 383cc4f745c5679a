/**
 * `maestro-operator/runtime`: the operator runtime's building blocks, for tools, tests
 * and advanced use. The package root exports what operators are written with; what is
 * here may change between minor versions.
 *
 * declaration (decorators → Registry) → specs (`buildSpecs`) → {@link Manager}
 * (transport, cache, client, Events, metrics, elector, metrics and probe servers) → one {@link Controller}
 * per parent spec → one {@link ReconcilePipeline} per reconcile.
 *
 * @module
 */
export { Manager, OperatorStartError } from './manager.js';
export { LeadershipLostError, Terms } from './terms.js';
export type { TermsOptions } from './terms.js';
export type { ManagerOptions } from './manager.js';
export { Operator, createOperator } from './operator.js';
export type { OperatorOptions } from './operator.js';
export type { MemoryModeOptions } from './memory.js';
export { Controller, ControllerBusyError } from './controller.js';
export type { ControllerOptions } from './controller.js';
export { queueKey, subscribe } from './sources.js';
export type { SourcesOptions } from './sources.js';
export { ReconcilePipeline, isInterruption } from './pipeline.js';
export type { PipelineOptions, ReconcileRequest, ScopeFactory } from './pipeline.js';
export { Finalizers, type FinalizeOptions, type FinalizerLiveReader } from './finalizers.js';
export { parentChanged } from './predicates.js';
export { defaultStatusHandler } from './status.js';
export type { LiveReader } from './status.js';
export { ReconcileScope, planInjection } from './injection.js';
export { WebhookRuntime } from './webhooks.js';
export type { WebhookOptions, WebhookRuntimeDeps } from './webhooks.js';
export type { ParentInjection } from './injection.js';

export {
  Registry, OperatorConfigurationError, buildSpecs, collectSpecs, customResources, defineResource, resourceOf, tryResourceOf,
} from '../declare/index.js';
export type {
  BuildSpecsOptions, CacheSpec, CleanerSpec, ComponentClass, ComponentDeclaration, ComponentRole, ComponentSpec, IndexDeclaration, IndexSpec,
  KindSpec, OperatorSpec, OwnedDeclaration, ParentSpec, StatusHandlerSpec, StepSpec, UsedDeclaration, ValidationSpec, WatchDeclaration, WatchSpec,
} from '../declare/index.js';
export {
  ResourceTable, builtInResources, defaultPlural, isBuiltInGroup, InvalidResourceError, UnknownResourceError,
} from '../resources/index.js';
export type { ResourceLookup } from '../resources/index.js';

export { ApiTransport, collectionPath, objectPath } from '../client/transport.js';
export type { Method, RequestObserver, RequestRecord, SendOptions, TransportOptions, WatchEnd, WatchOptions } from '../client/transport.js';
export { KubeClient, AlreadyOwnedError, InvalidObjectError } from '../client/kube-client.js';
export type { KubeClientOptions } from '../client/kube-client.js';
export type { ControllerClient } from '../client/client.js';
export type { AppliedFields, FieldSet } from '../client/managed-fields.js';
export {
  Backoff, Cache, IndexNotFoundError, Indexer, Informer, indexValues, InvalidSelectorError, METADATA_LIST_ACCEPT, METADATA_WATCH_ACCEPT, parseFieldSelector,
  parseLabelSelector,
} from '../cache/index.js';
export type {
  CacheOptions, CacheReader, CachedForm, FieldSelector, IndexDefinition, InformerHandler, InformerOptions, InformerStats, KindCacheOptions,
  LabelSelector, ObjectSource,
} from '../cache/index.js';
export { KubeEventRecorder, noopEventRecorder } from '../events/index.js';
export type { EventRecorder, EventRecorderOptions, EventType } from '../events/index.js';
export { Metrics, InvalidReconcileResultError, MetricConflictError } from '../metrics/index.js';
export type {
  ControllerMetrics, LeaderElectionMetrics, MapErrorReason, QueueMetrics, ReconcileResult, RestClientMetrics, WatchEventResult, WatchMetrics,
} from '../metrics/index.js';
export {
  WorkQueue, FakeClock, realClock, defaultControllerRateLimiter, ExponentialFailureRateLimiter, BucketRateLimiter, MaxOfRateLimiter,
} from '../queue/index.js';
export type { CancelTimer, Clock, RateLimiter, WorkQueueOptions } from '../queue/index.js';
export { LeaderElector, LeaderElectionConfigError, LeaderElectorReuseError, defaultIdentity } from '../leader/index.js';
export type { LeaderCallbacks, LeaderElectionOptions, LeaderElectorDeps } from '../leader/index.js';
export { SpecValidation, describeViolations, hasValidation, validateResource } from '../validation/index.js';
export type { Violation } from '../validation/index.js';
export { Serving, transportReviewClient } from './serving.js';
export type { ServerOptions, ServingDependencies } from './serving.js';
export {
  CertificateWatcher, DelegatingAuth, HTTP_SERVER_LIMITS, METRICS_AUTH_RULES, METRICS_PATH, METRICS_READER_RULES, MetricsServer, ProbeServer,
  ReviewFailedError, ServerConfigError, metricsAuthClusterRole, metricsReaderClusterRole, readCertificateFiles, reviewClientFromKubeConfig,
  selfSignedCertificate,
} from '../server/index.js';
export type {
  AuthDecision, AuthRequest, AuthenticatedUser, CertificateFiles, CertificateKeyPair, CertificateWatcherOptions, Check, DelegatingAuthOptions,
  MetricsAuthOptions, MetricsServerOptions, ProbeServerOptions, ReviewClient, TlsSource,
} from '../server/index.js';
export { WebhookServer, createWebhookCertificates } from '../server/index.js';
export type { WebhookCertificates, WebhookHandler, WebhookRequestRecord, WebhookServerOptions } from '../server/index.js';
