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
  defineResource, InvalidResourceError, knownResources, resourceOf, tryResourceOf, UnknownResourceError,
} from './resources/index.js';
export type { ResourceClass, ResourceDeclaration, ResourceInfo } from './resources/index.js';
