import { MaestroError } from '../errors/index.js';

/** A serving option that cannot work (a certificate file that is missing or invalid, a bad port). */
export class ServerConfigError extends MaestroError {
  readonly code = 'ServerConfig';
}

/** A TokenReview or SubjectAccessReview that could not be made (after retries). */
export class ReviewFailedError extends MaestroError {
  readonly code = 'ReviewFailed';
  constructor(
    /** `TokenReview` or `SubjectAccessReview`. */
    readonly review: 'TokenReview' | 'SubjectAccessReview',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
