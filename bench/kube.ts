// The harness's own API access: plain HTTPS with keep-alive (cheap, so the harness
// takes as little CPU from the contenders as possible), a watch that reconnects, and
// the bulk operations the scenarios need. Not used by any contender.
import { Agent, request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** An admin connection to the API server. */
export class Api {
  readonly #server: URL;
  readonly #agent: Agent;

  constructor(kubeConfig: KubeConfig, maxSockets = 64) {
    const cluster = kubeConfig.getCurrentCluster();
    const user = kubeConfig.getCurrentUser();
    if (!cluster || !user?.certData || !user.keyData || !cluster.caData) throw new Error('the kubeconfig needs a cluster CA and a client certificate');
    const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    this.#server = new URL(cluster.server);
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets,
      ca: decode(cluster.caData),
      cert: decode(user.certData),
      key: decode(user.keyData),
    });
  }

  /** One request; resolves with the parsed JSON body, rejects with {@link ApiError} on non-2xx. */
  send<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request({
        host: this.#server.hostname,
        port: this.#server.port,
        path,
        method,
        agent: this.#agent,
        headers: {
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            let message = text.slice(0, 500);
            try { message = (JSON.parse(text) as { message?: string }).message ?? message; } catch { /* not JSON */ }
            reject(new ApiError(status, `${method} ${path}: HTTP ${status}: ${message}`));
            return;
          }
          try {
            resolve((text ? JSON.parse(text) : undefined) as T);
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Watches a collection from `resourceVersion` (or lists it first when empty) until
   * `stop()`, reconnecting from the last resourceVersion seen. `onList` receives the
   * initial items. Resolves once the watch is established.
   */
  async watch<T extends { metadata?: { resourceVersion?: string } }>(
    path: string,
    onEvent: (event: WatchEvent<T>) => void,
    onList: (items: T[]) => void = () => {},
  ): Promise<{ stop(): void }> {
    const list = await this.send<{ metadata: { resourceVersion: string }; items: T[] }>('GET', path);
    let resourceVersion = list.metadata.resourceVersion;
    onList(list.items);
    let stopped = false;
    let current: ReturnType<typeof request> | undefined;
    const connect = (): Promise<void> => new Promise((resolve, reject) => {
      const query = `watch=true&allowWatchBookmarks=true&timeoutSeconds=600&resourceVersion=${resourceVersion}`;
      const req = request({
        host: this.#server.hostname, port: this.#server.port, path: `${path}?${query}`, method: 'GET', agent: this.#agent,
        headers: { accept: 'application/json' },
      }, (res) => {
        if (res.statusCode !== 200) {
          reject(new ApiError(res.statusCode ?? 0, `watch ${path}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        resolve();
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let newline: number;
          while ((newline = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            if (!line.trim()) continue;
            const event = JSON.parse(line) as WatchEvent<T>;
            if (event.type === 'ERROR') {
              // 410 Gone and the like: start over from a fresh list.
              resourceVersion = '';
              req.destroy();
              return;
            }
            resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
            if (event.type !== 'BOOKMARK') onEvent(event);
          }
        });
        res.on('end', () => reconnect());
        res.on('error', () => reconnect());
      });
      req.on('error', (err) => {
        reject(err);
        reconnect();
      });
      req.end();
      current = req;
    });
    let reconnecting = false;
    const reconnect = () => {
      if (stopped || reconnecting) return;
      reconnecting = true;
      setTimeout(() => void (async () => {
        reconnecting = false;
        if (stopped) return;
        try {
          if (!resourceVersion) {
            const fresh = await this.send<{ metadata: { resourceVersion: string }; items: T[] }>('GET', path);
            resourceVersion = fresh.metadata.resourceVersion;
            for (const item of fresh.items) onEvent({ type: 'MODIFIED', object: item });
          }
          await connect();
        } catch {
          reconnect();
        }
      })(), 100);
    };
    await connect();
    return {
      stop: () => {
        stopped = true;
        current?.destroy();
      },
    };
  }

  /** Runs `task` over `items` with at most `limit` at once. */
  static async pool<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
  }

  /** Creates a namespace with a generated name starting with `prefix`. */
  async createNamespace(prefix: string): Promise<string> {
    const ns = await this.send<{ metadata: { name: string } }>('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { generateName: `${prefix}-` } });
    return ns.metadata.name;
  }

  /**
   * Deletes everything the scenarios create in `namespace` (Sites, ConfigMaps, Services,
   * Events), waits until it is gone, then deletes the namespace (which stays Terminating:
   * no controller manager runs, and nothing is left in it).
   */
  async emptyNamespace(namespace: string, deleteNamespace = true): Promise<void> {
    const ns = `/api/v1/namespaces/${namespace}`;
    const collections = [`/apis/bench.maestro.dev/v1/namespaces/${namespace}/sites`, `${ns}/configmaps`, `${ns}/events`];
    await Promise.all(collections.map((path) => this.send('DELETE', path).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    })));
    // Services have no deletecollection.
    const services = await this.send<{ items: Array<{ metadata: { name: string } }> }>('GET', `${ns}/services`);
    await Api.pool(services.items, 32, (svc) => this.send('DELETE', `${ns}/services/${svc.metadata.name}`).catch(() => undefined));
    // Deleting tens of thousands of objects takes the API server a while; the next run
    // must not compete with it, so wait (up to 5 minutes) until they are gone.
    const deadline = performance.now() + 300_000;
    for (const path of [...collections, `${ns}/services`]) {
      while (performance.now() < deadline) {
        const left = await this.send<{ items: unknown[] }>('GET', `${path}?limit=1`);
        if (left.items.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    if (deleteNamespace) await this.send('DELETE', ns).catch(() => undefined);
  }

  close(): void {
    this.#agent.destroy();
  }
}
