/**
 * Maestro: a decorator-based TypeScript SDK for Kubernetes operators.
 *
 * The package root exports what operators are written with: the decorators, the
 * conductor, State and binders of the original, the Client, results, the errors an operator
 * meets (`ContextCanceledError`, `NotBoundError`, `AlreadyOwnedError`, `IndexNotFoundError`,
 * `OperatorStartError`, ...), and `createOperator`. More lives under subpaths:
 * - `maestro-operator/conductor`: the whole conductor package (errors, `noopLogger`, ...);
 * - `maestro-operator/watches`: map helpers (`byIndex`, `byOwner`, `byLabel`), event filters
 *   (`generationChanged`, `and`, ...) and cache options for `@Watches`, `@Index`, `@Owns`, `@Parent`;
 * - `maestro-operator/generate`: CRD and RBAC generation;
 * - `maestro-operator/testing`: a local control plane, a fake client, `reconcileOnce`;
 * - `maestro-operator/runtime`: the runtime's building blocks (Manager, controllers, transport, cache, ...);
 * - `maestro-operator/decorators`, `/binder`, `/api`: the decorators (and `decoratorsFor`), binders, the api types.
 *
 * @packageDocumentation
 * @module
 */
import 'reflect-metadata';

export type {
  Cleaner, Condition, ConditionStatus, HandlesStatusConditions, NewCondition, Reconciler, Result,
} from './api/index.js';
export { TerminalError, isTerminal } from './api/index.js';
export { Context, ContextCanceledError, ContextKey } from './context/index.js';
export { MaestroError } from './errors/index.js';
export { Logger, loggerFrom } from './log/index.js';
export { Conductor, ConductorBuilder, forParent } from './conductor/conductor.js';
export type { StatusConditionsHandler } from './conductor/conductor.js';
export { ReconcilerError } from './conductor/errors.js';
export { State, fetchState } from './state/index.js';
export type { ConditionTransition } from './state/index.js';
export { NotBoundError, StaticBindable } from './binder/index.js';
export { Client, StatusClient } from './client/client.js';
export type {
  ApplyOptions, DeleteOptions, JsonPatchOperation, ListOptions, ObjectKey, PatchOptions, WriteOptions,
} from './client/client.js';
export { ApiError, isAlreadyExists, isConflict, isNotFound } from './client/errors.js';
export { AlreadyOwnedError } from './client/kube-client.js';
export { IndexNotFoundError } from './cache/index.js';
export { OperatorStartError } from './runtime/manager.js';
export type { ApiStatus } from './client/errors.js';
export type { ResourceClass, ResourceDeclaration } from './resources/index.js';
export { Registry } from './declare/registry.js';
export type { ComponentClass } from './declare/registry.js';
export { OperatorConfigurationError } from './declare/specs.js';
export { Operator, createOperator } from './runtime/operator.js';
export type { OperatorOptions } from './runtime/operator.js';
export type { MemoryModeOptions } from './runtime/memory.js';
export type { ServerOptions } from './runtime/serving.js';
export type { MetricsAuthOptions } from './server/auth.js';
export type { LeaderElectionOptions } from './leader/index.js';
export type { RateLimiter } from './queue/index.js';
export { Bound, Finalizer, Index, Owns, Parent, Reconciles, Resource, Schema, Scoped, StatusConditions, Uses, Watches } from '../decorators/index.js';
