import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { ApiError, isGone } from '../client/errors.js';
import { collectionPath, type ApiTransport } from '../client/transport.js';
import { appliedFieldsOf, type AppliedFields } from '../client/managed-fields.js';
import { fromWire } from '../client/wire.js';
import { describeError } from '../errors/index.js';
import { noopLogger, type Logger } from '../log/index.js';
import type { WatchEnd } from '../client/transport.js';
import { describe as describeResource, type ResourceInfo } from '../resources/index.js';
import type { Transform } from '../watch/options.js';
import { Backoff } from './backoff.js';
import { IndexNotFoundError, Indexer, describeIndexFailure, type IndexDefinition } from './indexer.js';
import { metadataCopy } from './metadata.js';
import type { LabelSelector } from './selector.js';

/** `Accept` of a metadata-only list: the API server answers a `PartialObjectMetadataList` (client-go's metadata client asks the same). */
export const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
/** `Accept` of a metadata-only watch: each event carries a `PartialObjectMetadata`. */
export const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** Callbacks for changes an {@link Informer} observes. They must be quick (e.g. enqueue a key). */
export interface InformerHandler<T extends KubernetesObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  /**
   * `finalStateUnknown`: the deletion was found by a re-list (the watch missed it), and `obj`
   * is the last state this cache saw, which may be older than the one deleted.
   */
  onDelete?(obj: T, finalStateUnknown?: boolean): void;
}

/** Options of an {@link Informer}. */
export interface InformerOptions {
  /** The operator's transport: lists and watches share its connections, deadlines and request metrics. */
  transport: ApiTransport;
  resource: ResourceInfo;
  /** Watch one namespace only (default: all namespaces). */
  namespace?: string;
  logger?: Logger;
  /** Objects per list page (default 500). */
  pageSize?: number;
  /**
   * How long a watch may stay silent before it is reopened (a half-open connection), in
   * milliseconds (default 90 000: above the API server's one-minute bookmark interval).
   */
  idleTimeoutMs?: number;
  /** Reconnect and re-list delays (default: 800 ms doubling to 30 s, jittered). */
  backoff?: Backoff;
  /** Only objects matching this label selector (Kubernetes syntax) are listed, watched and held. */
  labelSelector?: string;
  /** Only objects matching this field selector (Kubernetes syntax) are listed, watched and held. */
  fieldSelector?: string;
  /**
   * Hold only `apiVersion`, `kind` and `metadata`: lists and watches ask the API server for
   * `PartialObjectMetadata`, so objects' content is neither transferred nor held (default `false`).
   */
  metadataOnly?: boolean;
  /** Applied to each decoded object before it is stored (after `managedFields` are dropped). */
  transform?: Transform;
  /** Field indexes maintained over the stored objects. */
  indexes?: readonly IndexDefinition[];
  /**
   * The operator's field manager: of each object's `managedFields`, the cache keeps the
   * fields this manager's last apply owns (see {@link Informer.appliedFields}) and drops the rest.
   */
  fieldManager?: string;
}

/** Counters describing an informer's connection history (for tests and diagnostics). */
export interface InformerStats {
  /** Complete lists (the first one, and every re-list after `410 Gone`). */
  lists: number;
  /** Watch requests opened. */
  watches: number;
  /** Watches or lists that failed with an error other than a normal end. */
  errors: number;
  /** Re-lists forced by an expired resourceVersion (`410 Gone`). */
  expired: number;
  /** Objects the transform threw on (stored as they came). */
  transformErrors: number;
  /** Objects an index function threw on or returned garbage for (left out of that index). */
  indexErrors: number;
}

class GoneError extends ApiError {
  constructor(message: string) {
    super(410, message, { reason: 'Expired', code: 410 });
  }
}

/**
 * What the store holds of an object: the object, or only its metadata where the informer
 * is metadata-only without a transform (see `Informer.#bare`).
 */
type Held = KubernetesObject | V1ObjectMeta;

/** A watch that lasted this long was healthy: the next failure starts the backoff over. */
const HEALTHY_WATCH_MS = 30_000;
/** Bad requests (400) in a row to the first list after which {@link Informer.waitForSync} rejects. */
const BAD_REQUESTS_BEFORE_GIVING_UP = 3;

/**
 * A cached list+watch of one kind (client-go's reflector + store): it lists, then
 * watches from the list's resourceVersion with bookmarks; re-lists when the
 * resourceVersion expired (`410 Gone`); and reconnects after any error, dropped
 * connection or silence longer than the idle timeout. Re-lists and reconnects after
 * failures back off with jitter (800 ms doubling to 30 s), so an API server restart does
 * not cause a storm. Every request has a deadline (the transport's; watches end on the
 * server's `timeoutSeconds`, 5 to 10 minutes, and are given up 30 s after that). It never
 * stops on its own: only {@link stop} ends it.
 *
 * Cached objects have client-node's model shape and no `managedFields` (to save memory;
 * the operator's own apply entry is kept aside, see {@link appliedFields}).
 * They are shared: callers must copy before changing them. A label or field selector
 * limits what is listed, watched and held (an object that stops matching arrives as a
 * deletion); `metadataOnly` holds `PartialObjectMetadata` only (apiVersion, kind and
 * metadata; each read gives a fresh such object around the one cached metadata); a
 * transform changes objects before they are stored; field indexes are kept up to date
 * with the store.
 */
export class Informer<T extends KubernetesObject = KubernetesObject> {
  readonly resource: ResourceInfo;
  readonly namespace: string | undefined;
  readonly stats: InformerStats = { lists: 0, watches: 0, errors: 0, expired: 0, transformErrors: 0, indexErrors: 0 };
  /** Whether only metadata is held (see {@link InformerOptions.metadataOnly}). */
  readonly metadataOnly: boolean;

  readonly #options: InformerOptions;
  readonly #log: Logger;
  readonly #handlers: InformerHandler<T>[] = [];
  readonly #objects = new Map<string, Map<string, Held>>();
  /**
   * Whether the store holds only each object's metadata, and reads wrap it in a fresh
   * `{ apiVersion, kind, metadata }` (the kind's own, the same for every object): for a
   * metadata-only informer without a transform, that wrapper is all an object holds
   * besides its metadata, 48 of its about 430 bytes, while a read's wrapper is short-lived.
   */
  readonly #bare: boolean;
  /**
   * The field manager's own apply entry, by cached object's metadata (replaced objects drop
   * out; the metadata, since a metadata-only object is wrapped afresh on every read), as
   * JSON text: less than half the parsed form's heap (about 330 against 760 bytes for a
   * ConfigMap or Service), and it is read only when an apply is not known to be a no-op.
   */
  readonly #applied = new WeakMap<object, { apiVersion: string; fieldsV1: string }>();
  readonly #backoff: Backoff;
  readonly #indexer: Indexer<T, Held>;
  /** One string per namespace, shared by every object of it. */
  readonly #namespaces = new Map<string, string>();
  #lastFailureLog = 0;
  #resourceVersion = '';
  #synced = false;
  #syncWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  #lastError: unknown;
  #badRequests = 0;
  #running: Promise<void> | undefined;
  #stopped = false;
  #abort = new AbortController();

  constructor(options: InformerOptions) {
    this.#options = options;
    this.resource = options.resource;
    this.namespace = options.namespace;
    this.#log = (options.logger ?? noopLogger).child({ informer: `${options.resource.plural}.${options.resource.group || 'core'}`, namespace: options.namespace ?? '*' });
    this.#backoff = options.backoff ?? new Backoff();
    this.metadataOnly = options.metadataOnly ?? false;
    this.#bare = this.metadataOnly && !options.transform;
    this.#indexer = new Indexer<T, Held>(options.indexes ?? [], (field, obj, err) => {
      this.stats.indexErrors++;
      this.#logFailure({ err: describeIndexFailure(field, err), name: obj.metadata?.name, objectNamespace: obj.metadata?.namespace }, 'object left out of an index');
    });
  }

  /** Logs a failure of user code (transform, index function) at most every 10 s: it may fail on every object. */
  #logFailure(fields: Record<string, unknown>, message: string): void {
    const now = performance.now();
    if (now - this.#lastFailureLog < 10_000) return;
    this.#lastFailureLog = now;
    this.#log.warn({ ...fields, transformErrors: this.stats.transformErrors, indexErrors: this.stats.indexErrors }, message);
  }

  /** The indexed fields. */
  get indexes(): string[] {
    return this.#indexer.fields;
  }

  /** Adds change callbacks. Objects already cached are announced as adds. */
  addHandler(handler: InformerHandler<T>): void {
    this.#handlers.push(handler);
    if (handler.onAdd) for (const obj of this.list()) this.#call(() => handler.onAdd!(obj));
  }

  /** Starts listing and watching in the background (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#stopped = false;
    this.#running = this.#run();
  }

  /** Stops watching; resolves once the background loop has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    await this.#running;
    this.#running = undefined;
    this.#abort = new AbortController();
  }

  /** Whether the first complete list has been loaded. */
  get synced(): boolean {
    return this.#synced;
  }

  /**
   * Resolves once the first list is loaded. Rejects when `signal` aborts first, or with the
   * {@link ApiError} when the API server refuses the first list as a bad request three times
   * in a row (400: a selector it cannot use, e.g. a field it cannot select on).
   * The informer keeps retrying anyway until it is stopped.
   */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== waiter);
        reject(signal?.reason instanceof Error ? signal.reason : new Error(`aborted: ${describeError(signal?.reason)}`));
      };
      this.#syncWaiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The last list or watch failure since the last successful list or watch (for diagnostics: why a cache does not sync). */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** The resourceVersion the cache is at. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  /**
   * The fields `fieldManager` owns through its last apply of a cached object, as the API
   * server recorded them; `undefined` when it never applied it, or when it is not the
   * field manager whose entries this informer keeps (`InformerOptions.fieldManager`).
   */
  appliedFields(obj: T, fieldManager: string): AppliedFields | undefined {
    const applied = fieldManager === this.#options.fieldManager ? this.#applied.get(obj.metadata ?? obj) : undefined;
    return applied && { apiVersion: applied.apiVersion, fieldsV1: JSON.parse(applied.fieldsV1) as AppliedFields['fieldsV1'] };
  }

  /** The cached object, or `undefined`. Shared: do not modify it. */
  get(name: string, namespace?: string): T | undefined {
    const held = this.#objects.get(namespace ?? '')?.get(name);
    return held && this.#out(held);
  }

  /**
   * Cached objects, optionally of one namespace, matching a label selector, and indexed
   * under the given values (`{ field: value }`: looked up in the first field's index, so
   * the cost is the number of objects found there). Shared: do not modify them.
   *
   * @throws {@link IndexNotFoundError} for a field without an index.
   */
  list(namespace?: string, selector?: LabelSelector, index?: Readonly<Record<string, string>>): T[] {
    const result: T[] = [];
    const wanted = index ? Object.entries(index) : [];
    if (wanted.length > 0) {
      for (const [field] of wanted) {
        if (!this.#indexer.has(field)) {
          throw new IndexNotFoundError(`${describeResource(this.resource)} has no index '${field}'${this.indexes.length ? ` (its indexes: ${this.indexes.join(', ')})` : ''}: declare @Index(${this.resource.kind}, '${field}', (obj) => [...]) on a component`);
        }
      }
      const [[field, value], ...others] = wanted as [[string, string], ...Array<[string, string]>];
      for (const [key, held] of this.#indexer.lookup(field, value)) {
        const obj = this.#out(held);
        if (namespace !== undefined && (obj.metadata?.namespace ?? '') !== namespace) continue;
        if (others.some(([f, v]) => !this.#indexer.holds(f, v, key))) continue;
        if (!selector || selector.matches(obj.metadata?.labels)) result.push(obj);
      }
      return result;
    }
    const buckets = namespace === undefined ? [...this.#objects.values()] : [this.#objects.get(namespace) ?? new Map<string, Held>()];
    for (const bucket of buckets) {
      for (const held of bucket.values()) {
        const obj = this.#out(held);
        if (!selector || selector.matches(obj.metadata?.labels)) result.push(obj);
      }
    }
    return result;
  }

  /** How many objects are cached. */
  get size(): number {
    let size = 0;
    for (const bucket of this.#objects.values()) size += bucket.size;
    return size;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (!this.#resourceVersion) await this.#relist();
        const started = performance.now();
        const { delivered, end } = await this.#watchOnce();
        if (this.#stopped) break;
        if (delivered) this.#lastError = undefined;
        if (delivered || performance.now() - started >= HEALTHY_WATCH_MS) this.#backoff.reset();
        else if (end !== 'idle') {
          // A watch that ends at once with nothing delivered would otherwise spin.
          await this.#sleep(this.#backoff.next());
        }
      } catch (err) {
        if (this.#stopped) break;
        const delay = this.#backoff.next();
        if (isGone(err)) {
          // The resourceVersion is too old (compaction): start over from a fresh list.
          this.stats.expired++;
          this.#resourceVersion = '';
          this.#log.info({ err: describeError(err), retryInMs: delay }, 'watch expired; re-listing');
        } else {
          this.stats.errors++;
          this.#lastError = err;
          // A 400 to the first list is the request's fault (a selector the API server cannot
          // use), but may last a moment (a replica that has not yet seen a CRD's new
          // selectableFields): three in a row, and the waiters are told.
          this.#badRequests = err instanceof ApiError && err.statusCode === 400 ? this.#badRequests + 1 : 0;
          if (!this.#synced && this.#badRequests >= BAD_REQUESTS_BEFORE_GIVING_UP) {
            for (const waiter of this.#syncWaiters.splice(0)) waiter.reject(err as ApiError);
          }
          this.#log.warn({ err: describeError(err), retryInMs: delay }, `watch of ${describeResource(this.resource)} failed; reconnecting`);
        }
        await this.#sleep(delay);
      }
    }
  }

  async #relist(): Promise<void> {
    const path = collectionPath(this.resource, this.namespace);
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await this.#options.transport.send<{ metadata?: { resourceVersion?: string; continue?: string }; items?: KubernetesObject[] }>(
        'GET', path, {
          query: { ...this.#selectors(), limit: String(this.#options.pageSize ?? 500), continue: continueToken },
          signal: this.#abort.signal,
          ...(this.metadataOnly ? { accept: METADATA_LIST_ACCEPT } : {}),
        },
      );
      for (const raw of page.items ?? []) items.push(this.#decode(raw));
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? '';
    } while (continueToken && !this.#stopped);
    if (this.#stopped) return;
    this.stats.lists++;
    this.#lastError = undefined;
    this.#badRequests = 0;
    this.#replace(items);
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      for (const waiter of this.#syncWaiters.splice(0)) waiter.resolve();
      this.#log.debug({ objects: items.length }, 'cache synced');
    }
  }

  /** Replaces the cache with a complete list, announcing what changed while we were not watching. */
  #replace(items: T[]): void {
    const seen = new Map<string, Set<string>>();
    for (const obj of items) {
      const namespace = obj.metadata?.namespace ?? '';
      const name = obj.metadata?.name ?? '';
      let names = seen.get(namespace);
      if (!names) seen.set(namespace, (names = new Set()));
      names.add(name);
      const existing = this.get(name, namespace);
      if (existing?.metadata?.resourceVersion === obj.metadata?.resourceVersion && existing) continue;
      this.#store(obj);
      if (existing) this.#emit((h) => h.onUpdate?.(existing, obj));
      else this.#emit((h) => h.onAdd?.(obj));
    }
    for (const [namespace, bucket] of this.#objects) {
      for (const [name, held] of bucket) {
        if (seen.get(namespace)?.has(name)) continue;
        bucket.delete(name);
        this.#indexer.remove(`${namespace}/${name}`);
        const obj = this.#out(held);
        this.#emit((h) => h.onDelete?.(obj, true));
      }
      if (bucket.size === 0) this.#objects.delete(namespace);
    }
  }

  /** One watch request; resolves when it ends without an error, with whether it delivered anything and why it ended. */
  async #watchOnce(): Promise<{ delivered: boolean; end: WatchEnd }> {
    let delivered = false;
    this.stats.watches++;
    const onEvent = (type: string, raw: Record<string, unknown>): void => {
      if (this.#stopped) return;
      delivered = true;
      const object = raw as KubernetesObject & { code?: number; message?: string; reason?: string };
      switch (type) {
        case 'ADDED':
        case 'MODIFIED': {
          const obj = this.#decode(object);
          const existing = this.get(obj.metadata?.name ?? '', obj.metadata?.namespace);
          this.#store(obj);
          this.#resourceVersion = obj.metadata?.resourceVersion ?? this.#resourceVersion;
          if (existing) this.#emit((h) => h.onUpdate?.(existing, obj));
          else this.#emit((h) => h.onAdd?.(obj));
          break;
        }
        case 'DELETED': {
          const obj = this.#decode(object);
          const namespace = obj.metadata?.namespace ?? '';
          const bucket = this.#objects.get(namespace);
          const held = bucket?.get(obj.metadata?.name ?? '');
          const existing = held && this.#out(held);
          bucket?.delete(obj.metadata?.name ?? '');
          this.#indexer.remove(`${namespace}/${obj.metadata?.name ?? ''}`);
          if (bucket?.size === 0) this.#objects.delete(namespace);
          this.#resourceVersion = obj.metadata?.resourceVersion ?? this.#resourceVersion;
          this.#emit((h) => h.onDelete?.(existing ?? obj));
          break;
        }
        case 'BOOKMARK':
          this.#resourceVersion = object.metadata?.resourceVersion ?? this.#resourceVersion;
          break;
        case 'ERROR':
          // Ends the watch with this error (the transport rejects with what the handler threw).
          throw object.code === 410
            ? new GoneError(object.message ?? 'resourceVersion too old')
            : new ApiError(object.code ?? 500, object.message ?? 'watch error', object);
        default:
          this.#log.warn({ type }, 'unknown watch event type');
      }
    };
    const end = await this.#options.transport.watch(collectionPath(this.resource, this.namespace), {
      query: { ...this.#selectors(), resourceVersion: this.#resourceVersion, allowWatchBookmarks: 'true' },
      ...(this.metadataOnly ? { accept: METADATA_WATCH_ACCEPT } : {}),
      // Like client-go: a random server-side timeout of 5-10 minutes spreads reconnects.
      timeoutSeconds: Math.floor(300 + Math.random() * 300),
      idleTimeoutMs: this.#options.idleTimeoutMs,
      signal: this.#abort.signal,
      onEvent,
    });
    return { delivered, end };
  }

  #selectors(): Record<string, string | undefined> {
    return { labelSelector: this.#options.labelSelector || undefined, fieldSelector: this.#options.fieldSelector || undefined };
  }

  #decode(raw: KubernetesObject): T {
    // The operator's own apply entry is kept aside (see appliedFields) before managedFields go.
    const managedFields = raw.metadata?.managedFields;
    let obj: T;
    if (this.metadataOnly) {
      // PartialObjectMetadata: keep apiVersion/kind of the kind itself (owner mapping and the
      // client recognise objects by them), and only the metadata, in a fresh object of the
      // smallest shape (see metadataCopy; a `delete` would make it a larger dictionary).
      const metadata = metadataCopy(raw.metadata ?? {});
      if (metadata.creationTimestamp) metadata.creationTimestamp = new Date(metadata.creationTimestamp);
      if (metadata.deletionTimestamp) metadata.deletionTimestamp = new Date(metadata.deletionTimestamp);
      if (metadata.namespace) metadata.namespace = this.#namespace(metadata.namespace);
      obj = { apiVersion: this.resource.apiVersion, kind: this.resource.kind, metadata } as T;
    } else {
      // Lists omit apiVersion/kind on items; managedFields are large and unused by controllers.
      raw.apiVersion = this.resource.apiVersion;
      raw.kind = this.resource.kind;
      if (managedFields) delete raw.metadata!.managedFields;
      obj = this.#fromWire(raw);
      if (obj.metadata?.namespace) obj.metadata.namespace = this.#namespace(obj.metadata.namespace);
    }
    const stored = this.#transform(obj, raw);
    const applied = this.#options.fieldManager ? appliedFieldsOf(managedFields, this.#options.fieldManager) : undefined;
    if (applied) this.#applied.set(stored.metadata ?? stored, { apiVersion: applied.apiVersion, fieldsV1: JSON.stringify(applied.fieldsV1) });
    return stored;
  }

  /** The user's transform of a decoded object, or the object as it came when the transform fails. */
  #transform(obj: T, raw: KubernetesObject): T {
    const transform = this.#options.transform;
    if (!transform) return obj;
    try {
      const transformed = transform(obj);
      if (transformed === null || typeof transformed !== 'object' || !transformed.metadata?.name) {
        throw new TypeError(`the transform returned ${transformed === null ? 'null' : typeof transformed}${typeof transformed === 'object' && transformed ? ' without metadata.name' : ''}`);
      }
      return transformed as T;
    } catch (err) {
      // A transform that fails must not lose the object: it is stored as it came.
      this.stats.transformErrors++;
      this.#logFailure({ err: describeError(err), name: obj.metadata?.name, objectNamespace: obj.metadata?.namespace }, 'cache transform failed; object stored untransformed');
      return this.metadataOnly ? obj : this.#fromWire(raw);
    }
  }

  /** The one string of this namespace name (thousands of objects share it). */
  #namespace(name: string): string {
    const known = this.#namespaces.get(name);
    if (known !== undefined) return known;
    this.#namespaces.set(name, name);
    return name;
  }

  #fromWire(raw: KubernetesObject): T {
    try {
      return fromWire<T>(raw);
    } catch (err) {
      // One object the model conversion chokes on must not stall the watch (it would be
      // delivered again after every reconnect) nor the list: cache it as received.
      this.#log.warn({ err: describeError(err), name: raw.metadata?.name, namespace: raw.metadata?.namespace }, 'object kept in wire form: model conversion failed');
      return raw as T;
    }
  }

  #store(obj: T): void {
    const namespace = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    let bucket = this.#objects.get(namespace);
    if (!bucket) this.#objects.set(namespace, (bucket = new Map<string, Held>()));
    const held = this.#bare ? (obj.metadata ?? {}) : obj;
    bucket.set(name, held);
    this.#indexer.update(`${namespace}/${name}`, obj, held);
  }

  /** The object of what the store holds (see {@link #bare}). */
  #out(held: Held): T {
    return this.#bare ? ({ apiVersion: this.resource.apiVersion, kind: this.resource.kind, metadata: held } as T) : (held as T);
  }

  #emit(call: (handler: InformerHandler<T>) => void): void {
    for (const handler of this.#handlers) this.#call(() => call(handler));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A failing handler must not stop the cache.
      this.#log.error({ err: describeError(err) }, 'informer event handler threw');
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const signal = this.#abort.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
