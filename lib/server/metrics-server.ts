/**
 * The metrics endpoint, served the way controller-runtime serves it since v0.16: HTTPS with
 * a self-signed or a mounted (and reloaded) certificate, every request authenticated by a
 * TokenReview and authorized by a SubjectAccessReview. `secure: false` serves plain HTTP
 * without authentication, for local development only.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describeError } from '../errors/index.js';
import { noopLogger, type Logger } from '../log/index.js';
import { DelegatingAuth, type MetricsAuthOptions, type ReviewClient } from './auth.js';
import { selfSignedCertificate, watchServingCertificate, type CertificateKeyPair, type CertificateWatcher, type TlsSource } from './certificates.js';
import { ServerConfigError } from './errors.js';
import { HTTP_SERVER_LIMITS, close, listen, urlOf } from './listen.js';
import { fail, send } from './probes.js';
import { METRICS_PATH } from './rbac.js';

/** Options of a {@link MetricsServer}. */
export interface MetricsServerOptions {
  /** The metrics in Prometheus text format (e.g. `() => metrics.text()`); a throw or rejection answers 500. */
  metrics: () => string | Promise<string>;
  /** Content-Type of the metrics (default Prometheus text format 0.0.4). */
  contentType?: string;
  /**
   * HTTPS with authentication and authorization (default `true`). `false` serves plain HTTP
   * to anyone who can connect: for local development only.
   */
  secure?: boolean;
  /** Port (default 8443 when secure, 8080 when not; kubebuilder's defaults); 0 picks a free one. */
  port?: number;
  /** Address to bind (default: every interface, IPv6 and IPv4; see {@link listen}). */
  host?: string;
  /** Where TokenReviews and SubjectAccessReviews go: required when secure (see {@link reviewClientFromKubeConfig}). */
  reviews?: ReviewClient;
  /** Tuning of the delegated authentication and authorization (cache lifetimes, retries). */
  auth?: MetricsAuthOptions;
  /**
   * The serving certificate: a directory holding `tls.crt` and `tls.key` (a mounted
   * `kubernetes.io/tls` Secret), or the two files. Reloaded when they change. Default: a
   * self-signed certificate generated at start.
   */
  tls?: TlsSource;
  /** How often certificate files are re-read besides file-system events (default 10 s). */
  certReloadIntervalMs?: number;
  /** Extra DNS names or IPs for the self-signed certificate (e.g. the metrics Service's name). */
  selfSignedNames?: readonly string[];
  logger?: Logger;
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Serves {@link METRICS_PATH}. Securely by default: HTTPS (TLS 1.2+), a bearer token checked
 * by TokenReview (401 without one or with an invalid one), `get` on the non-resource URL
 * `/metrics` checked by SubjectAccessReview (403 when not allowed), both cached briefly.
 * Metrics are collected before anything is written, so a failing collector answers 500 and
 * nothing can crash the process.
 *
 * Needs, for the operator's ServiceAccount, the rules in {@link METRICS_AUTH_RULES}; and for
 * Prometheus, a binding to the {@link metricsReaderClusterRole}.
 *
 * @example
 * ```ts
 * const server = new MetricsServer({ metrics: () => metrics.text(), reviews: reviewClientFromKubeConfig(kc) });
 * await server.start(); // https://[::]:8443/metrics
 * ```
 */
export class MetricsServer {
  #server: Server | HttpsServer | undefined;
  #address: AddressInfo | undefined;
  #watcher: CertificateWatcher | undefined;
  #certificate: CertificateKeyPair | undefined;
  readonly #auth: DelegatingAuth | undefined;
  readonly #secure: boolean;
  readonly #log: Logger;

  constructor(private readonly options: MetricsServerOptions) {
    this.#secure = options.secure ?? true;
    this.#log = options.logger ?? noopLogger;
    if (this.#secure) {
      if (!options.reviews) {
        throw new ServerConfigError('secure metrics serving needs `reviews` (a ReviewClient, e.g. reviewClientFromKubeConfig(kubeConfig)) to authenticate and authorize scrapes; or set secure: false for local development');
      }
      this.#auth = new DelegatingAuth({ ...options.auth, client: options.reviews });
    } else if (options.tls) {
      throw new ServerConfigError('metrics `tls` was given with secure: false; remove one of them');
    }
  }

  /** Starts listening (after loading or generating the certificate); resolves with the bound address. */
  async start(): Promise<AddressInfo> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch((err: unknown) => fail(res, err, this.#log));
    };
    let server: Server | HttpsServer;
    if (this.#secure) {
      const certificate = await this.#loadCertificate();
      this.#certificate = certificate;
      server = createHttpsServer({ ...HTTP_SERVER_LIMITS, cert: certificate.certPem, key: certificate.keyPem, minVersion: 'TLSv1.2' }, handler);
      // A client that fails the handshake is no error of ours.
      server.on('tlsClientError', (err) => this.#log.debug({ err: describeError(err) }, 'TLS handshake failed'));
    } else {
      this.#log.warn('serving metrics over plain HTTP without authentication (secure: false); use only for local development');
      server = createHttpServer({ ...HTTP_SERVER_LIMITS }, handler);
    }
    this.#server = server;
    try {
      this.#address = await listen(server, this.options.port ?? (this.#secure ? 8443 : 8080), this.options.host, 'metrics server');
    } catch (err) {
      this.#watcher?.stop();
      throw err;
    }
    return this.#address;
  }

  /** The server's URL once started (`https://127.0.0.1:8443`, loopback for an unspecified address). */
  get url(): string | undefined {
    return this.#address && urlOf(this.#secure ? 'https' : 'http', this.#address);
  }

  /** The certificate being served (PEM), when secure: what a client may trust. */
  get certificatePem(): string | undefined {
    return this.#certificate?.certPem;
  }

  /** Re-reads mounted certificate files now (they are also re-read on change and periodically). */
  async reloadCertificate(): Promise<void> {
    await this.#watcher?.reload();
  }

  async stop(): Promise<void> {
    this.#watcher?.stop();
    this.#watcher = undefined;
    const server = this.#server;
    this.#server = undefined;
    await close(server);
  }

  async #loadCertificate(): Promise<CertificateKeyPair> {
    const tls = this.options.tls;
    if (!tls) return selfSignedCertificate(this.options.selfSignedNames);
    this.#watcher = watchServingCertificate(tls, {
      what: 'serving certificate', log: this.#log, intervalMs: this.options.certReloadIntervalMs,
      onChange: (pair) => {
        // New connections get the new certificate; open ones keep theirs.
        (this.#server as HttpsServer | undefined)?.setSecureContext({ cert: pair.certPem, key: pair.keyPem, minVersion: 'TLSv1.2' });
        this.#certificate = pair;
      },
    });
    return this.#watcher.start();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (path !== METRICS_PATH) return send(res, 404, 'not found\n');
    if (this.#auth) {
      const decision = await this.#auth.check({ authorization: req.headers.authorization, method: req.method ?? 'GET', path });
      if (!decision.allowed) {
        if (decision.status === 500) this.#log.error({ err: describeError(decision.error), path }, decision.message);
        else this.#log.debug({ status: decision.status, user: decision.user?.username, path }, decision.message);
        const headers: Record<string, string> = decision.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : decision.status === 429 ? { 'Retry-After': '1' } : {};
        return send(res, decision.status, `${decision.message}\n`, headers);
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    // Collect first: headers go out only with a complete body (a collector that throws
    // after headers were written used to crash the process with ERR_HTTP_HEADERS_SENT).
    let body: string;
    try {
      body = await this.options.metrics();
    } catch (err) {
      this.#log.error({ err: describeError(err) }, 'collecting metrics failed');
      return send(res, 500, 'collecting metrics failed\n');
    }
    send(res, 200, body, { 'Content-Type': this.options.contentType ?? PROMETHEUS_TEXT });
  }
}
