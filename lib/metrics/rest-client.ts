import type { Registry } from 'prom-client';
import { counter, histogram } from './families.js';

/** client-go's `rest_client_request_duration_seconds` buckets. */
export const REQUEST_DURATION_BUCKETS: readonly number[] = Object.freeze([0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60]);

/**
 * What the API transport reports, as client-go's `rest_client_*` metrics:
 * `rest_client_requests_total{code,method,host}` (code `<error>` when no response
 * arrived) and `rest_client_request_duration_seconds{verb,host}` (not for watches, whose
 * length is their server-side timeout).
 *
 * @example
 * ```ts
 * const rest = metrics.restClient('10.0.0.1:443');
 * const transport = ApiTransport.create(kubeConfig, { onRequest: (r) => rest.observe(r) });
 * ```
 */
export interface RestClientMetrics {
  observe(request: { method: string; statusCode: number; seconds: number }): void;
}

/** @internal The `rest_client_*` metric families of one registry. */
export class RestClientFamilies {
  readonly #requests;
  readonly #duration;

  constructor(registry: Registry) {
    this.#requests = counter(registry, {
      name: 'rest_client_requests_total',
      help: 'Number of HTTP requests, partitioned by status code, method, and host.',
      labelNames: ['code', 'method', 'host'],
    });
    this.#duration = histogram(registry, {
      name: 'rest_client_request_duration_seconds',
      help: 'Request latency in seconds. Broken down by verb, and host.',
      labelNames: ['verb', 'host'],
      buckets: REQUEST_DURATION_BUCKETS,
    });
  }

  restClient(host: string): RestClientMetrics {
    return {
      observe: ({ method, statusCode, seconds }) => {
        this.#requests.inc({ code: statusCode === 0 ? '<error>' : String(statusCode), method, host });
        if (method !== 'WATCH') this.#duration.observe({ verb: method, host }, seconds);
      },
    };
  }
}
