import { MaestroError } from '../errors/index.js';

/**
 * A request to a webhook path that is not a well-formed review (not JSON, not an
 * AdmissionReview or ConversionReview, no request or uid): answered `400`.
 *
 * @example
 * ```ts
 * await handlers.handle('/convert', { kind: 'Pod' }); // throws WebhookRequestError
 * ```
 */
export class WebhookRequestError extends MaestroError {
  readonly code = 'WebhookRequest';
  constructor(message: string, readonly status: 400 | 404 | 413 | 415 = 400, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * An object could not be converted between versions: a conversion function threw, or the
 * object's version or kind is not one the operator serves. Conversion reviews answer it as
 * a `Failure` with this message.
 */
export class ConversionError extends MaestroError {
  readonly code = 'ConversionFailed';
}
