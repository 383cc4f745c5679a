/**
 * The conductor (`maestro-operator/conductor`): ordered reconcilers for a parent resource,
 * with per-reconcile State, typed context values and binders: the original `conductor`
 * package, usable without decorators or the operator runtime.
 *
 * @module
 */
export { Conductor, ConductorBuilder, forParent } from './conductor.js';
export type { StatusConditionsHandler } from './conductor.js';
export {
  ConductorConfigurationError, InvalidParentError, InvalidResultError, ReconcilerError, StatusConditionsHandlerError,
} from './errors.js';
export { mergeResults } from './steps.js';
export { fetchState, InvalidConditionError, State, StateNotFoundError } from '../state/index.js';
export type { ConditionTransition } from '../state/index.js';
export { Context, ContextCanceledError, ContextKey, DeadlineExceededError } from '../context/index.js';
export { InvalidBindingError, NotBoundError, StaticBindable } from '../binder/index.js';
export { Logger, loggerFrom, noopLogger, withLogger } from '../log/index.js';
export type { Condition, ConditionStatus, NewCondition, Reconciler, Result } from '../api/index.js';
export { TerminalError, isTerminal } from '../api/index.js';
export { Client, StatusClient } from '../client/client.js';
