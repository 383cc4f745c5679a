import type { Registry } from 'prom-client';
import { counter } from './families.js';

/** Which process-level handler caught an error: the `type` label of `maestro_unhandled_errors_total`. */
export type UnhandledErrorType = 'unhandled_rejection' | 'uncaught_exception';

/**
 * What the process guard reports: `maestro_unhandled_errors_total{type}`, errors nothing
 * handled that the operator survived. Any increase is a bug worth an alert.
 *
 * @example
 * ```ts
 * metrics.unhandledErrors().caught('unhandled_rejection');
 * ```
 */
export interface UnhandledErrorMetrics {
  caught(type: UnhandledErrorType): void;
}

/** @internal The process guard's metric family of one registry. */
export class ProcessFamilies {
  readonly #unhandled;

  constructor(registry: Registry) {
    this.#unhandled = counter(registry, {
      name: 'maestro_unhandled_errors_total',
      help: 'Total number of unhandled promise rejections and uncaught exceptions the operator logged and survived, by type.',
      labelNames: ['type'],
    });
  }

  unhandledErrors(): UnhandledErrorMetrics {
    // Both series exist from the start, so that rate() and alerts see a 0 before the first error.
    for (const type of ['unhandled_rejection', 'uncaught_exception'] as const) this.#unhandled.inc({ type }, 0);
    return { caught: (type) => this.#unhandled.inc({ type }) };
  }
}
