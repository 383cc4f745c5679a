/**
 * Limits that keep an operator safe from what objects contain: the API's length limits on
 * messages (with truncation to them) and size and depth limits on the objects reconciled.
 *
 * @module
 */
export { API_LIMITS, TRUNCATION_SUFFIX, truncate, truncateConditionMessage, truncateEventMessage } from './truncate.js';
export {
  DEFAULT_OBJECT_LIMITS, MAX_DEPTH_LIMIT, ObjectLimitError, assertWithinLimits, checkObjectLimits, objectLimitsProblems,
} from './object-limits.js';
export type { ObjectLimitViolation, ObjectLimits } from './object-limits.js';
export { deepCopy } from './copy.js';
