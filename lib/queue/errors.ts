import { MaestroError } from '../errors/index.js';

/** Thrown by a rate limiter constructor for an invalid setting (e.g. a negative delay or qps 0). */
export class RateLimiterConfigurationError extends MaestroError {
  readonly code = 'RateLimiterConfiguration';
}

/** Thrown by {@link WorkQueue.addAfter} for a delay that is not a number of milliseconds (NaN, Infinity). */
export class InvalidDelayError extends MaestroError {
  readonly code = 'InvalidDelay';
  constructor(readonly delay: unknown) {
    super(`invalid delay ${String(delay)}: expected a finite number of milliseconds`);
  }
}
