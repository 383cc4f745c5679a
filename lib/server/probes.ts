/**
 * The kubelet's endpoints: liveness (`/healthz`, `/livez`) and readiness (`/readyz`) on their
 * own plain-HTTP port, apart from the authenticated metrics, since the kubelet probes
 * without credentials.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError } from '../errors/index.js';
import { noopLogger, type Logger } from '../log/index.js';
import { HTTP_SERVER_LIMITS, close, listen, urlOf } from './listen.js';

/** A named check: `undefined` when fine, else why not. It may be async; a throw counts as a failure. */
export type Check = () => string | undefined | Promise<string | undefined>;

/** Options of a {@link ProbeServer}. */
export interface ProbeServerOptions {
  /** Port (default 8081, kubebuilder's `--health-probe-bind-address`); 0 picks a free one. */
  port?: number;
  /** Address to bind (default: every interface, IPv6 and IPv4; see {@link listen}). */
  host?: string;
  /** Liveness checks, served at `/healthz` and `/livez`. */
  health?: Record<string, Check>;
  /** Readiness checks (caches synced, leadership known), served at `/readyz`. */
  readiness?: Record<string, Check>;
  logger?: Logger;
}

/**
 * Serves `/healthz`, `/livez` and `/readyz` as the Kubernetes components do: 200 `ok` when
 * every check passes, else 500; `?verbose` lists each check (`[+]name ok` / `[-]name failed:
 * reason`); `/readyz/<name>` runs one check. No other path is served.
 *
 * @example
 * ```ts
 * const probes = new ProbeServer({ readiness: { informers: () => (synced ? undefined : 'caches not synced') } });
 * await probes.start();
 * ```
 */
export class ProbeServer {
  #server: Server | undefined;
  #address: AddressInfo | undefined;
  readonly #log: Logger;

  constructor(private readonly options: ProbeServerOptions = {}) {
    this.#log = options.logger ?? noopLogger;
  }

  /** Starts listening; resolves with the bound address. */
  async start(): Promise<AddressInfo> {
    const server = createServer({ ...HTTP_SERVER_LIMITS }, (req, res) => {
      this.#handle(req, res).catch((err: unknown) => fail(res, err, this.#log));
    });
    this.#server = server;
    this.#address = await listen(server, this.options.port ?? 8081, this.options.host, 'probe server');
    return this.#address;
  }

  /** The server's URL once started (`http://127.0.0.1:8081`, loopback for an unspecified address). */
  get url(): string | undefined {
    return this.#address && urlOf('http', this.#address);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await close(server);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://probe');
    const [, endpoint, only, extra] = url.pathname.split('/');
    const checks = endpoint === 'readyz' ? this.options.readiness ?? {} : endpoint === 'healthz' || endpoint === 'livez' ? this.options.health ?? {} : undefined;
    if (!checks || extra !== undefined || (only !== undefined && !Object.hasOwn(checks, only))) {
      return send(res, 404, 'not found\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    const selected = only === undefined ? Object.entries(checks) : [[only, checks[only]!] as const];
    const results = await Promise.all(selected.map(async ([name, check]) => {
      try {
        return [name, await check()] as const;
      } catch (err) {
        return [name, describeError(err)] as const;
      }
    }));
    const failed = results.filter(([, problem]) => problem !== undefined);
    const status = failed.length === 0 ? 200 : 500;
    if (failed.length > 0) this.#log.debug({ endpoint, failed: failed.map(([name]) => name) }, 'probe failed');
    if (!url.searchParams.has('verbose') && failed.length === 0) return send(res, status, 'ok\n');
    const lines = results.map(([name, problem]) => (problem === undefined ? `[+]${name} ok` : `[-]${name} failed: ${problem}`));
    return send(res, status, `${lines.join('\n')}\n${endpoint} check ${failed.length === 0 ? 'passed' : 'failed'}\n`);
  }
}

/** Answers unless the response is already under way; never throws. */
export function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(body);
}

/** The last resort of a handler: log, answer 500 if possible, else drop the connection. */
export function fail(res: ServerResponse, err: unknown, log: Logger): void {
  log.error({ err: describeError(err) }, 'request failed');
  if (res.headersSent) res.destroy();
  else send(res, 500, 'internal error\n');
}
