import { MaestroError } from '../errors/index.js';

/** The `metav1.Status` body the API server returns with a failed request. */
export interface ApiStatus {
  kind?: string;
  status?: string;
  message?: string;
  /** CamelCase cause, e.g. `NotFound`, `Conflict`, `AlreadyExists`, `Forbidden`, `Invalid`. */
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

/**
 * A request to the Kubernetes API failed. `statusCode` is the HTTP status (0 when no
 * response arrived) and `reason` the API's machine-readable reason.
 *
 * @example
 * ```ts
 * try { await client.get(V1ConfigMap, key); } catch (err) { if (!isNotFound(err)) throw err; }
 * ```
 */
export class ApiError extends MaestroError {
  readonly code = 'ApiError';
  /** The CamelCase reason from the API's Status (or derived from the HTTP status). */
  readonly reason: string;

  constructor(
    readonly statusCode: number,
    message: string,
    readonly status?: ApiStatus,
    options?: { cause?: unknown; verb?: string; path?: string },
  ) {
    const where = options?.verb ? `${options.verb} ${options.path ?? ''}: ` : '';
    super(`${where}${message}`, options);
    this.reason = status?.reason ?? reasonFor(statusCode);
  }
}

function reasonFor(statusCode: number): string {
  switch (statusCode) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 405: return 'MethodNotAllowed';
    case 409: return 'Conflict';
    case 410: return 'Expired';
    case 415: return 'UnsupportedMediaType';
    case 422: return 'Invalid';
    case 429: return 'TooManyRequests';
    case 500: return 'InternalError';
    case 503: return 'ServiceUnavailable';
    case 504: return 'Timeout';
    case 0: return 'ConnectionError';
    default: return 'Unknown';
  }
}

const hasStatus = (err: unknown, code: number): boolean => err instanceof ApiError && err.statusCode === code;

/** The object does not exist (404). */
export const isNotFound = (err: unknown): boolean => hasStatus(err, 404);
/** A write lost an optimistic-concurrency race or an apply conflicted (409, reason `Conflict`). */
export const isConflict = (err: unknown): boolean => hasStatus(err, 409) && (err as ApiError).reason !== 'AlreadyExists';
/** A create found the name taken (409, reason `AlreadyExists`). */
export const isAlreadyExists = (err: unknown): boolean => hasStatus(err, 409) && (err as ApiError).reason === 'AlreadyExists';
/** The request was not allowed (403). */
export const isForbidden = (err: unknown): boolean => hasStatus(err, 403);
/** The object failed validation (422). */
export const isInvalid = (err: unknown): boolean => hasStatus(err, 422);
/** A watch or list asked for a resourceVersion that is too old (410). */
export const isGone = (err: unknown): boolean => hasStatus(err, 410);
