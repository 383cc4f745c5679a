/**
 * The one HTTP transport of an operator: every request to the API server (reads and
 * writes, list and watch, the Lease, Events) goes through it.
 *
 * @module
 */
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { Dispatcher } from 'undici';
import type { KubeConfig } from '@kubernetes/client-node';
import { describeError } from '../errors/index.js';
import type { ResourceInfo } from '../resources/index.js';
import { ApiError, type ApiStatus } from './errors.js';
import { Agent, ProxyAgent, Socks5ProxyAgent } from './undici.js';

/** What the transport reports about each request, once it ended. */
export interface RequestRecord {
  /** The HTTP method, or `WATCH` for a watch. */
  method: string;
  path: string;
  /** The response's status code, or 0 when none arrived (network error, timeout, abort). */
  statusCode: number;
  /** From sending the request to the end of its body (for a watch: its whole life). */
  seconds: number;
}

/** Called after every API request: for request counts and latency metrics. */
export type RequestObserver = (request: RequestRecord) => void;

/** Options of {@link ApiTransport.create}. */
export interface TransportOptions {
  /** Sent as `User-Agent` on every request (default `maestro-operator`). */
  userAgent?: string;
  /** Observes every request and its outcome. */
  onRequest?: RequestObserver;
  /**
   * The deadline of each request, from sending it to the end of its response body, in
   * milliseconds (default 30 000). Watches have their own (see {@link WatchOptions}).
   */
  timeoutMs?: number;
}

/** An HTTP method of the Kubernetes API. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Options of {@link ApiTransport.send}. */
export interface SendOptions {
  query?: Record<string, string | undefined>;
  /** Sent as JSON (ignored when `json` is given). */
  body?: unknown;
  /**
   * The body already serialized as JSON, sent as it is; `body` is then ignored. For a caller
   * that needs the text anyway (the client's `apply` digests it to skip no-op applies).
   */
  json?: string;
  /** Default `application/json`. */
  contentType?: string;
  /**
   * The `Accept` header (default `application/json`), e.g.
   * `application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` for metadata only.
   */
  accept?: string;
  /** Aborts the request (it then fails with status 0). */
  signal?: AbortSignal;
  /** Overrides the transport's request deadline. */
  timeoutMs?: number;
}

/** Options of {@link ApiTransport.watch}. */
export interface WatchOptions {
  /** Query parameters besides `watch=true` and `timeoutSeconds` (e.g. `resourceVersion`, `allowWatchBookmarks`). */
  query?: Record<string, string | undefined>;
  /** The `Accept` header (default `application/json`; `application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1` for metadata only). */
  accept?: string;
  /**
   * The server ends the watch after this many seconds (default 300, client-go's minimum);
   * the client gives up 30 s after that, so a watch never outlives its deadline.
   */
  timeoutSeconds?: number;
  /**
   * The longest silence tolerated before the watch is treated as dead (a half-open
   * connection), in milliseconds (default 90 000). Keep it above the API server's bookmark
   * interval (about a minute) so a quiet watch with bookmarks is not reopened.
   */
  idleTimeoutMs?: number;
  /** Aborts the watch (it then resolves `'aborted'`). */
  signal?: AbortSignal;
  /**
   * Called with each event, in order. If it throws, the watch ends and rejects with what
   * it threw (e.g. on an `ERROR` event).
   */
  onEvent(type: string, object: Record<string, unknown>): void;
}

/** Why a watch ended without an error. */
export type WatchEnd = 'closed' | 'idle' | 'deadline' | 'aborted';

/** The REST path of a collection (`/apis/apps/v1/namespaces/web/deployments`). */
export function collectionPath(resource: ResourceInfo, namespace?: string): string {
  const root = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  return resource.namespaced && namespace ? `${root}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}` : `${root}/${resource.plural}`;
}

/** The REST path of one object, or of its subresource. */
export function objectPath(resource: ResourceInfo, namespace: string | undefined, name: string, subresource?: string): string {
  const path = `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${path}/${subresource}` : path;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const WATCH_SLACK_MS = 30_000;
const DEFAULT_IDLE_MS = 90_000;
// TCP keep-alive probes after 30 s idle, as client-go's dialer does.
const KEEP_ALIVE_MS = 30_000;

type Tls = Pick<HttpsRequestOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'>;

interface Credentials {
  tls: Tls;
  headers: Record<string, string>;
}

/** The TLS material and authentication headers of the kubeconfig's current context, through client-node's public API. */
async function credentials(kubeConfig: KubeConfig): Promise<Credentials> {
  const options: HttpsRequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.headers ?? {})) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : `${value}`;
  }
  if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = options;
  return { tls: { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername }, headers };
}

/** Identifies TLS material, to notice a rotated client certificate (Buffers serialise as their bytes). */
const tlsKey = (tls: Tls): string => JSON.stringify([tls.ca, tls.cert, tls.key, tls.pfx, tls.rejectUnauthorized, tls.servername]);

function dispatcherFor(kubeConfig: KubeConfig, tls: Tls): Dispatcher {
  const connect = { ...tls, keepAlive: true, keepAliveInitialDelay: KEEP_ALIVE_MS };
  const proxy = kubeConfig.getCurrentCluster()?.proxyUrl;
  if (proxy?.startsWith('socks')) return new Socks5ProxyAgent(proxy, { requestTls: connect });
  if (proxy) return new ProxyAgent({ uri: proxy, requestTls: connect, connect: { keepAlive: true, keepAliveInitialDelay: KEEP_ALIVE_MS } });
  // One pool for the operator's life: keep-alive, and HTTP/2 (one multiplexed connection) when the server offers it.
  return new Agent({ connect });
}

/** Characters a query's key or value keeps as they are in `URLSearchParams`'s form encoding. */
const FORM_SAFE = /^[\w.*-]*$/;

/**
 * The query string of `query`'s defined entries, as `URLSearchParams` writes it, without
 * building one for the usual query of plain words (`fieldManager`, `force`, `dryRun`).
 */
export function queryString(query: Record<string, string | undefined>): string {
  let search = '';
  for (const key in query) {
    const value = query[key];
    if (value === undefined || !Object.hasOwn(query, key)) continue;
    if (!FORM_SAFE.test(key) || !FORM_SAFE.test(value)) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
      return params.toString();
    }
    search += `${search ? '&' : ''}${key}=${value}`;
  }
  return search;
}

function parseStatus(text: string): ApiStatus | undefined {
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? parsed : { message: text };
  } catch {
    return { message: text.slice(0, 1024) };
  }
}

/**
 * The deadline of one request or watch: it passes after `ms`, or is cut short by `outer`
 * aborting or by {@link Deadline.abort} (the transport closing). Whoever waits on it is
 * told once, through {@link Deadline.onEnd}; `clear` frees the timer and the listener.
 */
class Deadline {
  expired = false;
  /** Why it ended early or passed; undefined while it runs. */
  reason: unknown;
  readonly #timer: NodeJS.Timeout;
  readonly #outer: AbortSignal | undefined;
  readonly #onOuter = (): void => this.abort(this.#outer?.reason);
  #listener: ((reason: Error) => void) | undefined;

  constructor(ms: number, outer: AbortSignal | undefined) {
    this.#timer = setTimeout(() => {
      this.expired = true;
      this.abort(new Error(`deadline of ${ms} ms exceeded`));
    }, ms);
    this.#timer.unref();
    this.#outer = outer;
    if (outer?.aborted) this.abort(outer.reason);
    else outer?.addEventListener('abort', this.#onOuter, { once: true });
  }

  get ended(): boolean {
    return this.reason !== undefined;
  }

  abort(reason: unknown): void {
    if (this.ended) return;
    this.reason = reason ?? new Error('aborted');
    this.#listener?.(this.#error());
  }

  /** `listener` is called when the deadline ends early or passes (at once if it already did). */
  onEnd(listener: (reason: Error) => void): void {
    this.#listener = listener;
    if (this.ended) listener(this.#error());
  }

  /** The reason as an Error, for the exchange it ends. */
  #error(): Error {
    return this.reason instanceof Error ? this.reason : new Error(String(this.reason));
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener('abort', this.#onOuter);
  }
}

/**
 * One exchange with the server through undici's handler API (`Dispatcher.dispatch`):
 * `dispatcher.request` would wrap every response in a Readable stream bound to its async
 * context and wire an AbortSignal into it, which on a busy operator costs more CPU than
 * undici's HTTP/2 work itself (bench/README.md, "The operator's CPU per request"). The
 * body goes to {@link Exchange.body}; `done` settles once, with `finish`'s result at the
 * end of the response, or with the error that ended it: the deadline's reason, a
 * connection error, a timeout of undici's (`UND_ERR_HEADERS_TIMEOUT`,
 * `UND_ERR_BODY_TIMEOUT`). An exchange that ends before undici starts it (its connection
 * still being set up) fails at once; the request keeps its place in undici's queue until
 * then and is cancelled when it starts (undici's own early removal is internal to it).
 */
abstract class Exchange<R> implements Dispatcher.DispatchHandler {
  statusCode = 0;
  readonly done: Promise<R>;
  #resolve!: (result: R) => void;
  #reject!: (err: unknown) => void;
  #settled = false;
  #controller: Dispatcher.DispatchController | undefined;
  #abortReason: Error | undefined;

  constructor(limit: Deadline) {
    this.done = new Promise<R>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    limit.onEnd((reason) => this.abort(reason));
  }

  /** Ends the exchange with `reason`; before undici started the request, at once (it is then cancelled when it starts). */
  abort(reason: Error): void {
    if (this.#settled) return;
    this.#abortReason = reason;
    if (this.#controller) this.#controller.abort(reason);
    else this.fail(reason);
  }

  /** The body's bytes of a response with `statusCode` (informational responses excluded). */
  protected abstract body(chunk: Buffer): void;
  /** The exchange's result once the response ended. */
  protected abstract finish(): R;

  /** Whether `done` has settled: nothing more is delivered then. */
  protected get settled(): boolean {
    return this.#settled;
  }

  protected fail(err: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(err);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#settled) controller.abort(this.#abortReason ?? new Error('aborted'));
    else this.#controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    if (statusCode >= 200) this.statusCode = statusCode;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#settled) this.body(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    let result: R;
    try {
      result = this.finish();
    } catch (err) {
      this.fail(err);
      return;
    }
    this.#settled = true;
    this.#resolve(result);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }
}

/** A response read whole, as text. */
class TextExchange extends Exchange<string> {
  readonly #chunks: Buffer[] = [];

  protected body(chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  protected finish(): string {
    return this.#chunks.length === 1 ? this.#chunks[0]!.toString('utf8') : Buffer.concat(this.#chunks).toString('utf8');
  }
}

/**
 * A watch's response: each line of a 200 response is an event handed to `onEvent` as it
 * arrives; any other status's body is kept as text for the error. What `onEvent` throws
 * ends the watch with that error.
 */
class WatchExchange extends Exchange<string> {
  handlerFailure: { error: unknown } | undefined;
  readonly #onEvent: WatchOptions['onEvent'];
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';

  constructor(limit: Deadline, onEvent: WatchOptions['onEvent']) {
    super(limit);
    this.#onEvent = onEvent;
  }

  protected body(chunk: Buffer): void {
    this.#pending += this.#decoder.write(chunk);
    if (this.statusCode !== 200) return;
    let start = 0;
    try {
      // Not past the end of the watch: a handler may stop it (abort its signal) mid-chunk.
      for (let newline = this.#pending.indexOf('\n'); newline >= 0 && !this.settled; newline = this.#pending.indexOf('\n', start)) {
        const line = this.#pending.slice(start, newline).trim();
        start = newline + 1;
        if (!line) continue;
        const event = JSON.parse(line) as { type?: unknown; object?: unknown };
        try {
          this.#onEvent(String(event.type), (event.object ?? {}) as Record<string, unknown>);
        } catch (error) {
          this.handlerFailure = { error };
          throw error;
        }
      }
    } catch (err) {
      this.abort(err instanceof Error ? err : new Error(String(err)));
    }
    this.#pending = this.#pending.slice(start);
  }

  protected finish(): string {
    return this.#pending + this.#decoder.end();
  }
}

const errorCode = (err: unknown): string | undefined => (err as { code?: unknown } | null)?.code as string | undefined;

/**
 * HTTP access to the Kubernetes API for one kubeconfig context: TLS and authentication
 * from the kubeconfig (client-node's `applyToHTTPSOptions`; exec and token-file
 * credentials are refreshed per request), one keep-alive connection pool (undici, HTTP/2
 * when the server offers it), the `User-Agent`, a deadline on every request, the real
 * status code of every response, and an observer for request metrics. Failures are
 * {@link ApiError}s: the API's status and `Status` body, or status 0 when no response
 * arrived (network error, deadline, abort).
 *
 * @example
 * ```ts
 * const transport = ApiTransport.create(kubeConfig, { userAgent: 'web-operator' });
 * const cm = await transport.send<{ data?: Record<string, string> }>('GET', '/api/v1/namespaces/web/configmaps/site');
 * ```
 */
export class ApiTransport {
  /** The API server's base URL. */
  readonly server: URL;
  readonly #kubeConfig: KubeConfig;
  readonly #userAgent: string;
  readonly #observer: RequestObserver | undefined;
  readonly #timeoutMs: number;
  /** The server URL's path, without a trailing `/`, before every request path. */
  readonly #base: string;
  /** Whether credentials can change (exec plugins, auth providers, token files): re-read per request. */
  readonly #refresh: boolean;
  #connection: Promise<{ dispatcher: Dispatcher; tlsKey: string; headers: Record<string, string> }> | undefined;
  #closed = false;
  /** The deadlines of the requests in flight (so that closing can end them). */
  readonly #inFlight = new Set<Deadline>();

  /** A transport for the current context of `kubeConfig`. */
  static create(kubeConfig: KubeConfig, options: TransportOptions = {}): ApiTransport {
    return new ApiTransport(kubeConfig, options);
  }

  private constructor(kubeConfig: KubeConfig, options: TransportOptions) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new ApiError(0, 'the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.#base = this.server.pathname.replace(/\/$/, '');
    this.#kubeConfig = kubeConfig;
    this.#userAgent = options.userAgent ?? 'maestro-operator';
    this.#observer = options.onRequest;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const user = kubeConfig.getCurrentUser();
    this.#refresh = Boolean(user?.exec || user?.authProvider);
  }

  /** `host:port` of the API server (the `host` label of request metrics). */
  get host(): string {
    return this.server.host;
  }

  /** The dispatcher and headers for the next request (credentials refreshed when they can change). */
  async #connect(): Promise<{ dispatcher: Dispatcher; headers: Record<string, string> }> {
    if (this.#closed) throw new ApiError(0, 'the transport is closed');
    if (!this.#connection || this.#refresh) {
      const previous = this.#connection;
      const next = (async () => {
        const { tls, headers } = await credentials(this.#kubeConfig);
        const key = tlsKey(tls);
        const old = await previous?.catch(() => undefined);
        // A rotated client certificate needs new connections; anything else keeps the pool.
        if (old && old.tlsKey === key) return { dispatcher: old.dispatcher, tlsKey: key, headers };
        if (old) void old.dispatcher.close().catch(() => undefined);
        return { dispatcher: dispatcherFor(this.#kubeConfig, tls), tlsKey: key, headers };
      })();
      this.#connection = next;
      // A failure (e.g. an exec plugin) is retried by the next request.
      next.catch(() => { if (this.#connection === next) this.#connection = undefined; });
    }
    return this.#connection;
  }

  #url(path: string, query: Record<string, string | undefined> | undefined): string {
    const search = query ? queryString(query) : '';
    return `${this.#base}${path}${search ? `?${search}` : ''}`;
  }

  #headers(auth: Record<string, string>, extra: Record<string, string>): Record<string, string> {
    return { ...auth, 'User-Agent': this.#userAgent, Accept: 'application/json', ...extra };
  }

  #failure(err: unknown, method: string, path: string, limit: Deadline, ms: number): ApiError {
    if (err instanceof ApiError) return err;
    if (limit.expired) return new ApiError(0, `no response within ${ms} ms`, { reason: 'Timeout' }, { verb: method, path, cause: err });
    if (limit.ended) return new ApiError(0, `aborted (${describeError(limit.reason)})`, undefined, { verb: method, path, cause: err });
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    const code = errorCode(cause) ?? errorCode(err);
    return new ApiError(0, `request failed: ${describeError(cause)}${code ? ` (${code})` : ''}`, undefined, { verb: method, path, cause: err });
  }

  /**
   * Sends one request and returns the parsed JSON of the response (`undefined` for an
   * empty body).
   *
   * @throws {@link ApiError} with the status code and the API's Status, or status 0 when no
   *   response arrived within the deadline (reason `Timeout`), the signal aborted, or the
   *   connection failed.
   */
  async send<T>(method: Method, path: string, options: SendOptions = {}): Promise<T> {
    const started = performance.now();
    const ms = options.timeoutMs ?? this.#timeoutMs;
    const limit = new Deadline(ms, options.signal);
    this.#inFlight.add(limit);
    let statusCode = 0;
    try {
      const { dispatcher, headers } = await this.#connect();
      const body = options.json ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      const exchange = new TextExchange(limit);
      // Ended while connecting (aborted, or the deadline passed): the exchange has failed already.
      if (!limit.ended) dispatcher.dispatch({
        origin: this.server.origin,
        path: this.#url(path, options.query),
        method,
        headers: this.#headers(headers, {
          ...(body === undefined ? {} : { 'Content-Type': options.contentType ?? 'application/json' }),
          ...(options.accept ? { Accept: options.accept } : {}),
        }),
        body,
        headersTimeout: ms,
        bodyTimeout: ms,
      }, exchange);
      const text = await exchange.done;
      statusCode = exchange.statusCode;
      if (statusCode < 200 || statusCode > 299) {
        const status = parseStatus(text);
        throw new ApiError(statusCode, status?.message ?? `HTTP ${statusCode}`, status, { verb: method, path });
      }
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (err) {
      throw this.#failure(err, method, path, limit, ms);
    } finally {
      this.#inFlight.delete(limit);
      limit.clear();
      this.#observer?.({ method, path, statusCode, seconds: (performance.now() - started) / 1000 });
    }
  }

  /**
   * Opens a watch on a collection path and hands each event to `options.onEvent` until
   * the server ends it (`'closed'`), nothing arrived for the idle timeout (`'idle'`), its
   * deadline passed (`'deadline'`), or `options.signal` aborted (`'aborted'`).
   *
   * @throws {@link ApiError} when the watch cannot be opened (e.g. 410 Gone, 403) or the
   *   connection fails; or whatever `onEvent` threw.
   */
  async watch(path: string, options: WatchOptions): Promise<WatchEnd> {
    const started = performance.now();
    const timeoutSeconds = options.timeoutSeconds ?? 300;
    const total = timeoutSeconds * 1000 + WATCH_SLACK_MS;
    const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_MS;
    const limit = new Deadline(total, options.signal);
    this.#inFlight.add(limit);
    let exchange: WatchExchange | undefined;
    try {
      const { dispatcher, headers } = await this.#connect();
      exchange = new WatchExchange(limit, (type, object) => options.onEvent(type, object));
      if (!limit.ended) dispatcher.dispatch({
        origin: this.server.origin,
        path: this.#url(path, { ...options.query, watch: 'true', timeoutSeconds: String(timeoutSeconds) }),
        method: 'GET',
        headers: this.#headers(headers, options.accept ? { Accept: options.accept } : {}),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: idle,
      }, exchange);
      const text = await exchange.done;
      if (exchange.statusCode !== 200) {
        const status = parseStatus(text);
        throw new ApiError(exchange.statusCode, status?.message ?? `HTTP ${exchange.statusCode}`, status, { verb: 'WATCH', path });
      }
      return 'closed';
    } catch (err) {
      if (exchange?.handlerFailure) throw exchange.handlerFailure.error;
      if (err instanceof ApiError) throw err;
      if (errorCode(err) === 'UND_ERR_BODY_TIMEOUT') return 'idle';
      if (limit.expired) return 'deadline';
      if (limit.ended) return 'aborted';
      throw this.#failure(err, 'WATCH', path, limit, total);
    } finally {
      this.#inFlight.delete(limit);
      limit.clear();
      this.#observer?.({ method: 'WATCH', path, statusCode: exchange?.statusCode ?? 0, seconds: (performance.now() - started) / 1000 });
    }
  }

  /**
   * Closes the connection pool once the requests in flight ended, or after `graceMs`
   * (default 5 000), when it destroys them; later requests fail. Idempotent.
   */
  async close(graceMs = 5_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const connection = await this.#connection?.catch(() => undefined);
    if (!connection) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), graceMs); timer.unref(); });
    const closed = await Promise.race([connection.dispatcher.close().then(() => 'closed' as const, () => 'closed' as const), late]);
    clearTimeout(timer);
    if (closed === 'closed') return;
    for (const request of this.#inFlight) request.abort(new Error('the transport was closed'));
    await connection.dispatcher.destroy().catch(() => undefined);
  }
}
