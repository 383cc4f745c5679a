/**
 * The operator's webhook endpoint: HTTPS (TLS 1.2+), POSTed reviews in, reviews out, for
 * the API server's admission and conversion calls (controller-runtime's `webhook.Server`).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describeError } from '../errors/index.js';
import { noopLogger, type Logger } from '../log/index.js';
import { selfSignedCertificate, watchServingCertificate, type CertificateKeyPair, type CertificateWatcher, type TlsSource } from './certificates.js';
import { ServerConfigError } from './errors.js';
import { HTTP_SERVER_LIMITS, close, listen, urlOf } from './listen.js';
import { send } from './probes.js';

/** What the server serves: the paths it knows, and an answer per review (`WebhookHandlers` in `maestro-operator/webhook`). */
export interface WebhookHandler {
  /** Whether `path` is served (else 404). */
  has(path: string): boolean;
  /**
   * The review to answer with. A thrown error with a numeric `status` of 400 to 415 is a
   * bad request and answered with that status and its message; anything else is a 500.
   */
  handle(path: string, body: unknown): Promise<unknown>;
}

/** One answered request, for metrics (controller-runtime's `controller_runtime_webhook_*`). */
export interface WebhookRequestRecord {
  path: string;
  /** HTTP status of the answer. */
  code: number;
  /** From the first byte of the request to the end of the answer. */
  seconds: number;
}

/** Options of a {@link WebhookServer}. */
export interface WebhookServerOptions {
  handler: WebhookHandler;
  /** Port (default 9443, kubebuilder's); 0 picks a free one. */
  port?: number;
  /** Address to bind (default: every interface, IPv6 and IPv4). */
  host?: string;
  /**
   * Serve certificate files (a mounted `kubernetes.io/tls` Secret's directory with `tls.crt`
   * and `tls.key`, or the two files), re-read when they change (cert-manager's renewals
   * need no restart).
   */
  tls?: TlsSource;
  /** Serve this pair (e.g. issued by the operator's own CA); replace it with {@link WebhookServer.setCertificate}. */
  certificate?: CertificateKeyPair;
  /** How often certificate files are re-read besides file-system events (default 10 s). */
  certReloadIntervalMs?: number;
  /** Largest request body accepted (default 8 MiB: an object and its old version at the API's 3 MiB request limit). */
  maxBodyBytes?: number;
  /** Called after each answer. */
  onRequest?: (record: WebhookRequestRecord) => void;
  logger?: Logger;
}

const JSON_TYPE = 'application/json';

/**
 * Serves webhooks over HTTPS: `POST <path>` with a JSON review, answered with a JSON review
 * by the {@link WebhookHandler}. Unknown paths answer 404, other methods 405, bodies that
 * are not JSON 400 (or 415 for another Content-Type), larger than `maxBodyBytes` 413;
 * nothing a client sends can crash the process. The certificate comes from files
 * (reloaded), from the caller, or is self-signed (for tests: the API server must trust it).
 *
 * @example
 * ```ts
 * const server = new WebhookServer({ handler: new WebhookHandlers(spec.webhooks), tls: { certDir: '/tmp/k8s-webhook-server/serving-certs' } });
 * await server.start(); // https://[::]:9443
 * ```
 */
export class WebhookServer {
  #server: Server | undefined;
  #address: AddressInfo | undefined;
  #watcher: CertificateWatcher | undefined;
  #certificate: CertificateKeyPair | undefined;
  readonly #log: Logger;
  readonly #maxBody: number;

  constructor(private readonly options: WebhookServerOptions) {
    this.#log = options.logger ?? noopLogger;
    this.#maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
    if (options.tls && options.certificate) throw new ServerConfigError('webhook server: give either `tls` (files) or `certificate`, not both');
  }

  /** Loads the certificate and starts listening; resolves with the bound address. */
  async start(): Promise<AddressInfo> {
    if (this.#server) throw new ServerConfigError('webhook server: already started');
    const certificate = this.#certificate ?? await this.#loadCertificate();
    this.#certificate = certificate;
    const server = createServer({ ...HTTP_SERVER_LIMITS, cert: certificate.certPem, key: certificate.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#log.error({ err: describeError(err) }, 'webhook request failed');
        if (res.headersSent) res.destroy();
        else send(res, 500, 'internal error\n');
      });
    });
    // A client that fails the handshake (e.g. one that does not trust the CA) is no error of ours.
    server.on('tlsClientError', (err) => this.#log.debug({ err: describeError(err) }, 'webhook TLS handshake failed'));
    this.#server = server;
    try {
      this.#address = await listen(server, this.options.port ?? 9443, this.options.host, 'webhook server');
    } catch (err) {
      this.#watcher?.stop();
      this.#server = undefined;
      throw err;
    }
    this.#log.info({ url: this.url }, 'webhook server listening');
    return this.#address;
  }

  /** `https://127.0.0.1:9443` once started (loopback for an unspecified address). */
  get url(): string | undefined {
    return this.#address && urlOf('https', this.#address);
  }

  /** The bound port, once started. */
  get port(): number | undefined {
    return this.#address?.port;
  }

  /** The certificate being served (PEM). */
  get certificatePem(): string | undefined {
    return this.#certificate?.certPem;
  }

  /** Serves `pair` to new connections from now on (open ones keep theirs); before `start()`, the pair to start with. */
  setCertificate(pair: CertificateKeyPair): void {
    this.#certificate = pair;
    this.#server?.setSecureContext({ cert: pair.certPem, key: pair.keyPem, minVersion: 'TLSv1.2' });
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
    if (this.options.certificate) return this.options.certificate;
    const tls = this.options.tls;
    if (!tls) return selfSignedCertificate();
    this.#watcher = watchServingCertificate(tls, {
      what: 'webhook serving certificate', log: this.#log, intervalMs: this.options.certReloadIntervalMs, onChange: (pair) => this.setCertificate(pair),
    });
    return this.#watcher.start();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const began = performance.now();
    const path = new URL(req.url ?? '/', 'https://webhook').pathname;
    const answer = (code: number, body: string, headers: Record<string, string> = {}) => {
      send(res, code, body, headers);
      this.options.onRequest?.({ path, code, seconds: (performance.now() - began) / 1000 });
    };
    if (!this.options.handler.has(path)) return answer(404, 'not found\n');
    if (req.method !== 'POST') return answer(405, 'method not allowed\n', { Allow: 'POST' });
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== JSON_TYPE) {
      req.resume();
      return answer(415, `expected Content-Type ${JSON_TYPE}\n`);
    }
    const body = await readBody(req, this.#maxBody);
    if (body === undefined) return answer(413, `request body larger than ${this.#maxBody} bytes\n`, { Connection: 'close' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      return answer(400, `request body is not JSON: ${describeError(err)}\n`);
    }
    let review: unknown;
    try {
      review = await this.options.handler.handle(path, parsed);
    } catch (err) {
      const status = (err as { status?: unknown })?.status;
      if (typeof status === 'number' && status >= 400 && status <= 415) return answer(status, `${describeError(err)}\n`);
      throw err;
    }
    answer(200, JSON.stringify(review), { 'Content-Type': JSON_TYPE });
  }
}

/** The body as text, or `undefined` when it exceeds `limit` bytes (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
      done = true;
    });
    req.on('error', (err) => {
      if (!done) reject(err);
      done = true;
    });
  });
}
