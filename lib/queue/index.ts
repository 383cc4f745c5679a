/**
 * The work queue of controllers: de-duplicated, never handing one key to two workers,
 * with delayed and rate-limited re-adds (client-go's `util/workqueue`).
 *
 * @module
 */
export { FakeClock, realClock, setRealTimer } from './clock.js';
export type { CancelTimer, Clock } from './clock.js';
export { InvalidDelayError, RateLimiterConfigurationError } from './errors.js';
export {
  BucketRateLimiter, defaultControllerRateLimiter, ExponentialFailureRateLimiter, MaxOfRateLimiter,
} from './rate-limiters.js';
export type { RateLimiter } from './rate-limiters.js';
export { WorkQueue } from './work-queue.js';
export type { QueueMetrics, WorkQueueOptions } from './work-queue.js';
