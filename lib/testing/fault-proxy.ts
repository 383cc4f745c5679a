import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { MaestroError } from '../errors/index.js';

/**
 * What a {@link FaultProxy} does with traffic:
 * - `pass`: forwards both ways (the default);
 * - `blackhole`: forwards nothing and answers nothing. Open connections stay open but
 *   silent (half-open, as behind a dead router); new connections are accepted at the TCP
 *   level and then held, so a TLS handshake or request hangs. Nothing is lost: bytes wait
 *   in the kernel's buffers, as TCP retransmission would deliver them, and flow again on
 *   {@link FaultProxy.pass} (unless an end gave up on the connection meanwhile);
 * - `reset`: every new connection is reset as soon as it is accepted (open ones go on).
 *
 * @example
 * ```ts
 * proxy.setMode('blackhole'); // same as proxy.blackhole()
 * ```
 */
export type FaultMode = 'pass' | 'blackhole' | 'reset';

/**
 * How {@link FaultProxy.cut} ends connections: `reset` sends a TCP RST to both ends
 * (`ECONNRESET`, as after a crash or a firewall's reject); `close` sends a FIN to both
 * ends (an orderly end of stream, as a load balancer closing idle connections).
 */
export type CutMode = 'reset' | 'close';

/**
 * Options of {@link startFaultProxy}.
 *
 * @example
 * ```ts
 * await startFaultProxy({ target: plane.server, mode: 'pass' });
 * await startFaultProxy({ target: { host: '127.0.0.1', port: 6443 }, port: 16443 });
 * ```
 */
export interface FaultProxyOptions {
  /** Where to forward: a URL (`https://127.0.0.1:6443`, its host and port are used) or a host and port. */
  target: string | { host: string; port: number };
  /** Address to listen on. Default `127.0.0.1` (covered by the local control plane's serving certificate). */
  host?: string;
  /** Port to listen on. Default 0: any free port. */
  port?: number;
  /** Initial mode. Default `pass`. */
  mode?: FaultMode;
}

/**
 * Counters of a {@link FaultProxy} since it started.
 *
 * @example
 * ```ts
 * const { connections, open, bytesToServer } = proxy.stats();
 * ```
 */
export interface FaultProxyStats {
  /** Connections accepted. */
  connections: number;
  /** Connections open now (held ones included). */
  open: number;
  /** Connections open now that the black hole holds. */
  held: number;
  /** Connections reset on accept (mode `reset`). */
  refused: number;
  /** Connections ended by {@link FaultProxy.cut}. */
  cut: number;
  /** Bytes forwarded from clients to the target. */
  bytesToServer: number;
  /** Bytes forwarded from the target to clients. */
  bytesToClient: number;
}

/**
 * One connection through a {@link FaultProxy}, for tests that count reconnects.
 *
 * @example
 * ```ts
 * const reconnects = proxy.connectionLog().filter((c) => c.openedAt > blackHoleEnded).length;
 * ```
 */
export interface ProxyConnection {
  /** Sequence number, from 1. */
  readonly id: number;
  /** `Date.now()` when accepted. */
  readonly openedAt: number;
  /** `Date.now()` when both ends were closed, if they were. */
  closedAt?: number;
  /** How it ended: `client` or `server` closed or failed first, `cut`, `refused` (mode `reset`), or `proxy-closed`. */
  endedBy?: 'client' | 'server' | 'cut' | 'refused' | 'proxy-closed';
  bytesToServer: number;
  bytesToClient: number;
}

/** The proxy could not listen, or was used after {@link FaultProxy.close}. */
export class FaultProxyError extends MaestroError {
  readonly code = 'FaultProxy';
}

/** Pending bytes per direction beyond which reading pauses until the other side drains. */
const HIGH_WATER = 1 << 20;

class Link {
  upstream: Socket | undefined;
  connecting = false;
  /** One end closed during a black hole; the other learns it once traffic flows. */
  closing = false;
  closed = false;
  /** Forwarding handlers, removed when a cut (close) detaches the link. */
  readonly detach: Array<() => void> = [];

  constructor(readonly client: Socket, readonly record: ProxyConnection) {}
}

/**
 * A TCP proxy for fault injection between an operator and the API server (or any
 * client and server): it passes traffic, black-holes it, resets new connections, or cuts
 * every open connection, and counts connections and bytes. It works below TLS, so TLS
 * between the ends is untouched: the client must still verify the server's certificate
 * for the address it dials, which is the proxy's (`127.0.0.1` by default; the local
 * control plane's serving certificate covers `127.0.0.1` and `localhost`).
 *
 * Start it with {@link startFaultProxy}; point a client through it with
 * {@link FaultProxy.kubeConfig}.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ target: plane.server });
 * const operator = createOperator({ kubeConfig: proxy.kubeConfig(plane.kubeConfig), reconcilers });
 * await operator.start({ handleSignals: false });
 * proxy.blackhole();            // requests hang, watches go silent
 * proxy.pass();                 // traffic flows again
 * proxy.cut('reset');           // every open connection gets an RST
 * console.log(proxy.stats());   // { connections, open, held, cut, bytesToServer, ... }
 * await proxy.close();
 * ```
 */
export class FaultProxy {
  /** The port the proxy listens on. */
  readonly port: number;
  /** The address the proxy listens on. */
  readonly host: string;
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #links = new Set<Link>();
  readonly #log: ProxyConnection[] = [];
  #mode: FaultMode;
  #closed: Promise<void> | undefined;
  readonly #stats = { connections: 0, refused: 0, cut: 0, bytesToServer: 0, bytesToClient: 0 };

  /** @internal Use {@link startFaultProxy}. */
  constructor(server: Server, target: { host: string; port: number }, mode: FaultMode) {
    this.#server = server;
    this.#target = target;
    this.#mode = mode;
    const address = server.address() as AddressInfo;
    this.port = address.port;
    this.host = address.address;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** `https://<host>:<port>` of the proxy (IPv6 hosts in brackets). */
  get url(): string {
    return `https://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** The current mode. */
  get mode(): FaultMode {
    return this.#mode;
  }

  /** Changes the mode; see {@link FaultMode}. Switching to `pass` releases every held connection. */
  setMode(mode: FaultMode): void {
    this.#assertOpen();
    const previous = this.#mode;
    this.#mode = mode;
    if (previous === 'blackhole' && mode !== 'blackhole') {
      for (const link of this.#links) this.#release(link);
    } else if (mode === 'blackhole') {
      for (const link of this.#links) this.#hold(link);
    }
  }

  /** Forwards traffic (the default mode). Held connections resume where they stopped. */
  pass(): void {
    this.setMode('pass');
  }

  /** Forwards nothing and answers nothing, keeping connections open (half-open); see {@link FaultMode}. */
  blackhole(): void {
    this.setMode('blackhole');
  }

  /**
   * Ends every open connection (held ones included) with an RST (`reset`, the default)
   * or a FIN (`close`) to both ends. New connections are then handled by the mode.
   *
   * @returns how many connections were cut.
   */
  cut(how: CutMode = 'reset'): number {
    this.#assertOpen();
    let count = 0;
    for (const link of [...this.#links]) {
      if (link.closed) continue;
      count++;
      this.#stats.cut++;
      this.#finish(link, 'cut');
      for (const off of link.detach.splice(0)) off();
      const sockets = [link.client, link.upstream].filter((s): s is Socket => s !== undefined && !s.destroyed);
      if (how === 'reset') {
        for (const socket of sockets) socket.resetAndDestroy();
      } else {
        for (const socket of sockets) {
          // Read and drop what is pending, so the kernel sends a FIN (not an RST for unread data).
          socket.on('data', () => {});
          socket.on('error', () => {});
          socket.resume();
          socket.end();
          const timer = setTimeout(() => socket.destroy(), 2_000);
          timer.unref();
          socket.once('close', () => clearTimeout(timer));
        }
      }
    }
    return count;
  }

  /** The counters since start. */
  stats(): FaultProxyStats {
    let open = 0;
    let held = 0;
    for (const link of this.#links) {
      if (link.closed) continue;
      open++;
      if (this.#mode === 'blackhole') held++;
    }
    return { ...this.#stats, open, held };
  }

  /** Every connection accepted so far, oldest first (live records: open ones still change). */
  connectionLog(): readonly ProxyConnection[] {
    return this.#log;
  }

  /**
   * A copy of `kubeConfig` whose current cluster is reached through this proxy, with
   * the same credentials and CA (TLS verification stays on). Other clusters and contexts
   * are copied unchanged.
   *
   * @example
   * ```ts
   * const kc = proxy.kubeConfig(await plane.userKubeConfig('operator', ['system:masters']));
   * await kc.makeApiClient(CoreV1Api).listNamespace();
   * ```
   */
  kubeConfig(kubeConfig: KubeConfig): KubeConfig {
    const current = kubeConfig.getCurrentCluster();
    if (!current) throw new FaultProxyError('the kubeconfig has no current cluster to route through the proxy');
    const copy = new KubeConfig();
    copy.loadFromOptions({
      clusters: kubeConfig.clusters.map((c) => (c.name === current.name ? { ...c, server: this.url } : { ...c })),
      users: kubeConfig.users.map((u) => ({ ...u })),
      contexts: kubeConfig.contexts.map((c) => ({ ...c })),
      currentContext: kubeConfig.getCurrentContext(),
    });
    return copy;
  }

  /** Stops listening and destroys every connection. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      for (const link of [...this.#links]) {
        this.#finish(link, 'proxy-closed');
        link.client.destroy();
        link.upstream?.destroy();
      }
      this.#server.close(() => resolve());
    });
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new FaultProxyError('the fault proxy was closed');
  }

  #accept(client: Socket): void {
    this.#stats.connections++;
    const record: ProxyConnection = { id: this.#stats.connections, openedAt: Date.now(), bytesToServer: 0, bytesToClient: 0 };
    this.#log.push(record);
    client.on('error', () => { /* reported through close */ });
    if (this.#closed) {
      client.destroy();
      return;
    }
    if (this.#mode === 'reset') {
      this.#stats.refused++;
      record.closedAt = Date.now();
      record.endedBy = 'refused';
      client.resetAndDestroy();
      return;
    }
    const link = new Link(client, record);
    this.#links.add(link);
    client.pause();
    client.once('close', () => this.#ended(link, 'client'));
    if (this.#mode === 'pass') this.#connectUpstream(link);
  }

  #connectUpstream(link: Link): void {
    if (link.upstream || link.connecting || link.closed) return;
    link.connecting = true;
    const upstream = connect({ host: this.#target.host, port: this.#target.port, allowHalfOpen: true });
    link.upstream = upstream;
    upstream.pause();
    upstream.on('error', () => { /* reported through close */ });
    upstream.once('close', () => this.#ended(link, 'server'));
    upstream.once('connect', () => {
      link.connecting = false;
      if (link.closed) return;
      this.#forward(link, link.client, upstream, 'bytesToServer');
      this.#forward(link, upstream, link.client, 'bytesToClient');
      if (this.#mode !== 'blackhole') this.#release(link);
    });
  }

  /** Copies `from` to `to` with back-pressure, counting bytes; a FIN is passed on as a FIN. */
  #forward(link: Link, from: Socket, to: Socket, counter: 'bytesToServer' | 'bytesToClient'): void {
    const onData = (chunk: Buffer) => {
      this.#stats[counter] += chunk.length;
      link.record[counter] += chunk.length;
      if (!to.write(chunk) || to.writableLength > HIGH_WATER) from.pause();
    };
    const onDrain = () => {
      if (this.#mode !== 'blackhole' && !link.closed) from.resume();
    };
    const onEnd = () => { if (!to.destroyed) to.end(); };
    from.on('data', onData);
    to.on('drain', onDrain);
    from.on('end', onEnd);
    link.detach.push(() => {
      from.off('data', onData);
      to.off('drain', onDrain);
      from.off('end', onEnd);
    });
  }

  #hold(link: Link): void {
    link.client.pause();
    link.upstream?.pause();
  }

  #release(link: Link): void {
    if (link.closed) return;
    if (!link.upstream) {
      this.#connectUpstream(link);
      return;
    }
    if (link.connecting) return;
    link.client.resume();
    link.upstream.resume();
  }

  /** One end closed: close the other, unless the black hole keeps the other end from learning it. */
  #ended(link: Link, by: 'client' | 'server'): void {
    if (link.closed || link.closing) return;
    if (this.#mode === 'blackhole') {
      // Nothing crosses a black hole, not even a close: the other end learns it on pass().
      const other = by === 'client' ? link.upstream : link.client;
      if (other && !other.destroyed) {
        link.closing = true;
        const propagate = () => {
          if (this.#mode === 'blackhole' && !this.#closed) return;
          clearInterval(poll);
          this.#finish(link, by);
          other.destroy();
        };
        const poll = setInterval(propagate, 100);
        poll.unref();
        other.once('close', () => { clearInterval(poll); this.#finish(link, by); });
        return;
      }
    }
    this.#finish(link, by);
    link.client.destroy();
    link.upstream?.destroy();
  }

  #finish(link: Link, by: NonNullable<ProxyConnection['endedBy']>): void {
    if (link.closed) return;
    link.closed = true;
    link.record.closedAt = Date.now();
    link.record.endedBy = by;
    this.#links.delete(link);
  }
}

/**
 * Starts a {@link FaultProxy} in front of `target` and resolves once it listens.
 *
 * @throws {FaultProxyError} if it cannot listen (e.g. the port is taken).
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ target: plane.server });
 * after(() => proxy.close());
 * ```
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = typeof options.target === 'string' ? targetOf(options.target) : options.target;
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new FaultProxyError(`the fault proxy cannot listen: ${err.message}`, { cause: err })));
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  server.on('error', () => { /* after listening, errors concern single connections */ });
  return new FaultProxy(server, target, options.mode ?? 'pass');
}

function targetOf(url: string): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new FaultProxyError(`invalid proxy target '${url}': give a URL or { host, port }`, { cause: err });
  }
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
}
