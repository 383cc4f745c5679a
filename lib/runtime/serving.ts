/**
 * What an operator serves over HTTP(S): metrics (HTTPS with delegated authentication and
 * authorization by default) and the kubelet's probes on their own plain port. The Manager
 * builds one {@link Serving} from its `server` option and starts and stops it with itself.
 *
 * @module
 */
import type { V1SubjectAccessReview, V1TokenReview } from '@kubernetes/client-node';
import type { ApiTransport } from '../client/transport.js';
import type { Logger } from '../log/index.js';
import type { Metrics } from '../metrics/index.js';
import { MetricsServer, ProbeServer, ServerConfigError, type Check, type MetricsAuthOptions, type ReviewClient } from '../server/index.js';

/**
 * How an operator serves `/metrics` and its probes (`createOperator({ server })`).
 *
 * By default metrics are served the way controller-runtime serves them (since v0.16): over
 * HTTPS on port 8443, each scrape authenticated with a TokenReview and authorized with a
 * SubjectAccessReview (`get` on the non-resource URL `/metrics`); `/healthz`, `/livez` and
 * `/readyz` on plain HTTP port 8081 for the kubelet; both on every interface, IPv6 and IPv4.
 * The operator's ServiceAccount then needs `create` on `tokenreviews` and
 * `subjectaccessreviews` (the generated RBAC has it), and scrapers the generated
 * `<operator>-metrics-reader` ClusterRole.
 *
 * For local development, `{ secure: false }` serves `/metrics` over plain HTTP (port 8080)
 * **without any authentication**: never in a cluster.
 *
 * @example
 * ```ts
 * createOperator({ server: { tls: { certDir: '/tmp/k8s-metrics-server/serving-certs' } } }); // a mounted certificate
 * createOperator({ server: { secure: false } });                    // development: http://localhost:8080/metrics, no auth
 * createOperator({ server: { metricsPort: 0, probePort: 0, host: '127.0.0.1' } }); // tests: free loopback ports
 * ```
 */
export interface ServerOptions {
  /**
   * Serve `/metrics` over HTTPS with authentication and authorization (default `true`).
   * `false`: plain HTTP, and anyone who can connect may read the metrics; for local
   * development only.
   */
  secure?: boolean;
  /** Port of `/metrics` (default 8443, or 8080 when not `secure`; kubebuilder's ports); 0 picks a free one. */
  metricsPort?: number;
  /** Port of `/healthz`, `/livez` and `/readyz` (default 8081); 0 picks a free one. */
  probePort?: number;
  /**
   * Address both servers bind (default: every interface, IPv6 and IPv4, so that probes work
   * on IPv4, IPv6-only and dual-stack clusters alike), e.g. `'127.0.0.1'`.
   */
  host?: string;
  /**
   * The serving certificate of `/metrics`: a directory holding `tls.crt` and `tls.key` (a
   * mounted `kubernetes.io/tls` Secret, e.g. cert-manager's), or the two files; re-read when
   * they change. Default: a self-signed certificate generated at start.
   */
  tls?: { certDir: string } | { certFile: string; keyFile: string };
  /** Tuning of the delegated authentication and authorization (cache lifetimes, retries, audiences). */
  auth?: MetricsAuthOptions;
}

/**
 * TokenReviews and SubjectAccessReviews through the operator's own API transport: its
 * connection pool, credentials, deadlines and `rest_client_*` metrics. Failures are
 * `ApiError`s, whose `statusCode` tells the reviewer which to retry.
 *
 * @example
 * ```ts
 * const auth = new DelegatingAuth({ client: transportReviewClient(manager.transport) });
 * ```
 */
export function transportReviewClient(transport: ApiTransport): ReviewClient {
  return {
    createTokenReview: (body, signal) =>
      transport.send<V1TokenReview>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body, signal }),
    createSubjectAccessReview: (body, signal) =>
      transport.send<V1SubjectAccessReview>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { body, signal }),
  };
}

/** What {@link Serving} needs from the Manager. */
export interface ServingDependencies {
  metrics: Metrics;
  transport: ApiTransport;
  logger: Logger;
  /** Liveness checks (`/healthz`, `/livez`). */
  health: Record<string, Check>;
  /** Readiness checks (`/readyz`). */
  readiness: Record<string, Check>;
}

const checkPort = (what: string, port: number | undefined): void => {
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new ServerConfigError(`server.${what} ${String(port)} is not a TCP port (0 to 65535; 0 picks a free one)`);
  }
};

/**
 * The operator's two servers: {@link MetricsServer} and {@link ProbeServer}, configured from
 * {@link ServerOptions}. Invalid options throw a `ServerConfigError` at construction (so
 * `createOperator` reports them before anything starts).
 */
export class Serving {
  readonly metrics: MetricsServer;
  readonly probes: ProbeServer;
  readonly secure: boolean;

  constructor(options: ServerOptions, deps: ServingDependencies) {
    this.secure = options.secure ?? true;
    checkPort('metricsPort', options.metricsPort);
    checkPort('probePort', options.probePort);
    const metricsPort = options.metricsPort ?? (this.secure ? 8443 : 8080);
    const probePort = options.probePort ?? 8081;
    if (metricsPort !== 0 && metricsPort === probePort) {
      throw new ServerConfigError(`server.metricsPort and server.probePort are both ${metricsPort}: metrics and probes are served on two ports`);
    }
    const logger = deps.logger.child({ component: 'server' });
    this.metrics = new MetricsServer({
      metrics: () => deps.metrics.text(),
      contentType: deps.metrics.contentType,
      secure: this.secure,
      port: metricsPort,
      host: options.host,
      ...(this.secure ? { reviews: transportReviewClient(deps.transport) } : {}),
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      logger,
    });
    this.probes = new ProbeServer({ port: probePort, host: options.host, health: deps.health, readiness: deps.readiness, logger });
  }

  /** Starts both servers; if one cannot listen, the other is stopped and the error thrown. */
  async start(): Promise<void> {
    await this.probes.start();
    try {
      await this.metrics.start();
    } catch (err) {
      await this.probes.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.metrics.stop(), this.probes.stop()]);
  }
}
