/**
 * `createOperator()`: decorated classes assembled into a running operator.
 *
 * @module
 */
export { createOperator, Operator, OperatorStartError } from './operator.js';
export type { OperatorOptions } from './operator.js';
export { assemble, OperatorConfigurationError, ParentConductor } from './assembly.js';
export type { AssembleOptions, ReconcileRequest } from './assembly.js';
export { MissingScopeError, ReconcileScope } from './scope.js';
