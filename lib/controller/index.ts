/**
 * The controller: the reconcile loop of one parent type.
 *
 * @module
 */
export { Controller } from './controller.js';
export type { ControllerOptions } from './controller.js';
export { parentChanged } from './predicates.js';
export { conditionTransitions, defaultStatusHandler } from './status.js';
export type { LiveReader } from './status.js';
