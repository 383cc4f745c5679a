/**
 * The conductor: ordered reconcilers for a parent resource, with per-reconcile State
 * (the original's `conductor` package).
 *
 * @module
 */
export {
  Conductor, ConductorBuilder, ConductorConfigurationError, forParent, InvalidParentError, InvalidResultError,
  mergeResults, ReconcilerError, StatusConditionsHandlerError,
} from './conductor.js';
export type { StatusConditionsHandler } from './conductor.js';
export { fetchState, InvalidConditionError, State, StateNotFoundError } from '../state/index.js';
export type { ConditionTransition } from '../state/index.js';
