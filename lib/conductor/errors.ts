import { describeError, MaestroError } from '../errors/index.js';

/** Thrown by {@link ConductorBuilder.build} for an incomplete configuration. */
export class ConductorConfigurationError extends MaestroError {
  readonly code = 'ConductorConfiguration';
}

/** Thrown by `conduct` when a reconciler failed; `cause` is what it threw. */
export class ReconcilerError extends MaestroError {
  readonly code = 'ReconcilerFailed';
  /** Set when the status-conditions handler also failed while recording this failure. */
  handlerError?: unknown;

  constructor(
    /** The failed reconciler's name (its class name). */
    readonly reconciler: string,
    /** Its position in registration order, from 0. */
    readonly index: number,
    cause: unknown,
  ) {
    super(`reconciler ${reconciler} failed: ${describeError(cause)}`, { cause });
  }
}

/** Thrown by `conduct` when the status-conditions handler failed after every reconciler succeeded. */
export class StatusConditionsHandlerError extends MaestroError {
  readonly code = 'StatusConditionsHandlerFailed';
  constructor(cause: unknown) {
    super(`status conditions handler failed: ${describeError(cause)}`, { cause });
  }
}

/** A reconciler returned something that is not a {@link Result}. */
export class InvalidResultError extends MaestroError {
  readonly code = 'InvalidResult';
}

/** `conduct` was called without a parent object. */
export class InvalidParentError extends MaestroError {
  readonly code = 'InvalidParent';
}
