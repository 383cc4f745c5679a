import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from '../metrics/index.js';

/** A named readiness or liveness check: `undefined` when fine, else why not. */
export type Check = () => string | undefined;

/**
 * The operator's one HTTP server: `/metrics` (Prometheus), `/healthz` (liveness) and
 * `/readyz` (readiness: caches synced and, with leader election, leadership known).
 * `?verbose` lists each check, as the Kubernetes components do.
 */
export class OperatorServer {
  #server: Server | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly health: Record<string, Check>,
    private readonly readiness: Record<string, Check>,
  ) {}

  /** Starts listening; resolves with the bound address. */
  async listen(port: number, host: string): Promise<AddressInfo> {
    const server = createServer((req, res) => void this.#handle(req, res));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === '/metrics') {
        // Collect first: a collector that throws must still leave the 500 below possible.
        const text = await this.metrics.text();
        res.writeHead(200, { 'Content-Type': this.metrics.contentType });
        res.end(text);
      } else if (url.pathname === '/healthz' || url.pathname === '/livez') {
        this.#checks(res, this.health, url.searchParams.has('verbose'));
      } else if (url.pathname === '/readyz') {
        this.#checks(res, this.readiness, url.searchParams.has('verbose'));
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found\n');
      }
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  #checks(res: ServerResponse, checks: Record<string, Check>, verbose: boolean): void {
    const results = Object.entries(checks).map(([name, check]) => [name, check()] as const);
    const failed = results.filter(([, problem]) => problem !== undefined);
    res.writeHead(failed.length === 0 ? 200 : 500, { 'Content-Type': 'text/plain' });
    if (!verbose && failed.length === 0) return void res.end('ok\n');
    const lines = results.map(([name, problem]) => (problem === undefined ? `[+]${name} ok` : `[-]${name} failed: ${problem}`));
    res.end(`${lines.join('\n')}\n${failed.length === 0 ? 'ok' : 'check failed'}\n`);
  }
}
