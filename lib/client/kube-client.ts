import { hash } from 'node:crypto';
import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { parseLabelSelector } from '../cache/selector.js';
import { IndexNotFoundError } from '../cache/indexer.js';
import type { CacheReader } from '../cache/index.js';
import { MaestroError } from '../errors/index.js';
import { describe as describeResource, type ResourceClass, type ResourceInfo, type ResourceLookup } from '../resources/index.js';
import {
  Client, StatusClient,
  type ApplyOptions, type ControllerClient, type DeleteOptions, type JsonPatchOperation, type ListOptions, type ObjectKey,
  type PartialObjectMetadata, type PatchOptions, type WriteOptions,
} from './client.js';
import { deepCopy } from '../limits/copy.js';
import { ApiError, isNotFound } from './errors.js';
import { collectionPath, objectPath, type ApiTransport, type Method, type SendOptions } from './transport.js';
import { applyWouldBeNoOp } from './managed-fields.js';
import { fromWire, modelFromWire, toWire } from './wire.js';

const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

/** An object (whole or partial) as {@link PartialObjectMetadata} of `resource`, metadata copied. */
function asMetadata(resource: ResourceInfo, obj: KubernetesObject, fromApi: boolean): PartialObjectMetadata {
  const metadata = fromApi ? modelFromWire<NonNullable<KubernetesObject['metadata']>>(obj.metadata ?? {}, 'V1ObjectMeta') : structuredClone(obj.metadata ?? {});
  if (fromApi) delete metadata.managedFields;
  return { apiVersion: resource.apiVersion, kind: resource.kind, metadata };
}

/** An object cannot be sent as given (missing name, namespace, kind...). */
export class InvalidObjectError extends MaestroError {
  readonly code = 'InvalidObject';
}

/** Who controls an object (its controller owner reference). */
export interface ControllerOwner {
  kind: string;
  name: string;
  uid: string;
}

/**
 * `apply` would make the parent the controller of an object another controller owns. No
 * write was sent. Its `reason` (`AlreadyOwned`) becomes the parent's `Ready=False`
 * condition, whose message names the other owner.
 *
 * @example
 * ```ts
 * try { await client.apply(configMap); } catch (err) {
 *   if (err instanceof AlreadyOwnedError) log.warn({ owner: err.owner?.name }, 'someone else owns it');
 * }
 * ```
 */
export class AlreadyOwnedError extends MaestroError {
  readonly code = 'AlreadyOwned';
  /** The condition reason. */
  readonly reason = 'AlreadyOwned';
  constructor(message: string, /** The object's current controller, when known. */ readonly owner?: ControllerOwner) {
    super(message);
  }
}

const PATCH_CONTENT_TYPES: Record<NonNullable<PatchOptions['type']>, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};
const APPLY_CONTENT_TYPE = 'application/apply-patch+yaml';
const APPLIED_LIMIT = 100_000;

/** Options of a {@link KubeClient}. */
export interface KubeClientOptions {
  transport: ApiTransport;
  /** Resolves the classes and objects the client is given (built-in kinds and the registry's). */
  resources: ResourceLookup;
  /** The field manager of writes and server-side applies (the operator's name). */
  fieldManager: string;
  /** Serves reads of cached kinds; others are read from the API. */
  cache?: CacheReader;
  /** Objects per page when listing from the API (default 500). */
  pageSize?: number;
}

interface Applied {
  digest: string;
  resourceVersion: string;
}

/** What the client remembers of its own applies, shared by every per-parent client. */
class AppliedState {
  readonly entries = new Map<string, Applied>();
  /** Applies in flight, by key: resolve with the resourceVersion written (or undefined on failure). */
  readonly pending = new Map<string, Promise<string | undefined>>();
  remember(key: string, applied: Applied): void {
    this.entries.delete(key);
    this.entries.set(key, applied);
    // Oldest first: bounded, because entries of deleted objects are never looked up again.
    if (this.entries.size > APPLIED_LIMIT) this.entries.delete(this.entries.keys().next().value!);
  }
}

// Iterative: a cached object of any depth can be copied (structuredClone recurses).
const copy = <T>(obj: T): T => deepCopy(obj);

/**
 * The runtime's {@link Client}: reads of cached kinds come from the informer cache (as
 * deep copies), everything else goes to the API server.
 *
 * `apply` skips the request when the server-side apply would be a no-op: when this
 * process applied the identical configuration before and the cached object has not
 * changed since (same resourceVersion), or when the cached object's record of the
 * fields this field manager owns (`managedFields`) and their values show that the
 * configuration is in place (e.g. after a restart). A changed configuration, an object
 * another writer changed a field of, or a deleted object is always applied.
 */
export class KubeClient extends Client implements ControllerClient {
  readonly #transport: ApiTransport;
  readonly #resources: ResourceLookup;
  readonly #fieldManager: string;
  readonly #cache: CacheReader | undefined;
  #parent: KubernetesObject | undefined;
  #signal: AbortSignal | undefined;
  #applied = new AppliedState();
  readonly #pageSize: number;

  constructor(options: KubeClientOptions) {
    super();
    this.#pageSize = options.pageSize ?? 500;
    this.#transport = options.transport;
    this.#resources = options.resources;
    this.#fieldManager = options.fieldManager;
    this.#cache = options.cache;
  }

  /**
   * A client for reconciling `parent`: `apply` makes it the controller owner, it is the
   * default namespace, and its requests abort when `signal` does.
   */
  forParent(parent: KubernetesObject, signal?: AbortSignal): KubeClient {
    const client = new KubeClient({
      transport: this.#transport, resources: this.#resources, fieldManager: this.#fieldManager, cache: this.#cache, pageSize: this.#pageSize,
    });
    client.#parent = parent;
    client.#signal = signal;
    client.#applied = this.#applied;
    return client;
  }

  /**
   * Whether a watched object is the echo of this operator's own apply: its resourceVersion
   * is the one an `apply` of this client (or of a per-parent client made from it) got back.
   * A promise while an apply of the object is still in flight (the watch event can arrive
   * before the apply's response).
   */
  isOwnApply(obj: KubernetesObject): boolean | Promise<boolean> {
    const metadata = obj.metadata;
    const resource = this.#resources.tryOf(obj);
    if (!metadata?.resourceVersion || !metadata.name || !resource) return false;
    const key = `${resource.apiVersion}/${resource.kind}/${metadata.namespace ?? ''}/${metadata.name}`;
    if (this.#applied.entries.get(key)?.resourceVersion === metadata.resourceVersion) return true;
    const pending = this.#applied.pending.get(key);
    return pending ? pending.then((written) => written === metadata.resourceVersion) : false;
  }

  /** The parent this client is bound to, if any. */
  get parent(): KubernetesObject | undefined {
    return this.#parent;
  }

  #namespaceFor(resource: ResourceInfo, namespace: string | undefined, what: string): string | undefined {
    if (!resource.namespaced) return undefined;
    const resolved = namespace ?? this.#parent?.metadata?.namespace;
    if (!resolved) throw new InvalidObjectError(`${what}: ${resource.kind} is namespaced; give metadata.namespace`);
    return resolved;
  }

  /** The object with apiVersion/kind filled in from its class, and its resource. */
  #typed<T extends KubernetesObject>(obj: T, verb: string): { body: T; resource: ResourceInfo; namespace: string | undefined; name: string } {
    if (!obj || typeof obj !== 'object') throw new InvalidObjectError(`${verb}: expected a Kubernetes object, got ${obj === null ? 'null' : typeof obj}`);
    const resource = this.#resources.of(obj);
    const body: T = obj.apiVersion && obj.kind ? obj : { ...obj, apiVersion: resource.apiVersion, kind: resource.kind };
    const name = obj.metadata?.name ?? '';
    const namespace = this.#namespaceFor(resource, obj.metadata?.namespace, `${verb} ${resource.kind} ${name}`);
    return { body, resource, namespace, name };
  }

  #named(verb: string, resource: ResourceInfo, name: string): void {
    if (!name) throw new InvalidObjectError(`${verb} ${resource.kind}: metadata.name is required`);
  }

  /** Sends a request and returns the response in client-node's model shape. */
  async #send<T extends KubernetesObject>(method: Method, path: string, options: SendOptions = {}, signal = this.#signal): Promise<T> {
    return fromWire<T>(await this.#transport.send<KubernetesObject>(method, path, { signal, ...options }));
  }

  #notFound(resource: ResourceInfo, name: string): ApiError {
    return new ApiError(404, `${resource.plural} "${name}" not found`, { reason: 'NotFound', code: 404, details: { name, kind: resource.plural } });
  }

  /** A refused read of a kind that is not cached says why it went to the API server. */
  async #readThrough<R>(resource: ResourceInfo, read: () => Promise<R>): Promise<R> {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof ApiError) || err.statusCode !== 403) throw err;
      const how = this.#cache?.covers(resource, undefined, 'metadata') ? 'is cached metadata-only' : 'is not cached by this operator';
      throw new ApiError(403, `${err.message} (${describeResource(resource)} ${how}, so this read went to the API server: `
        + `declare @Uses(${resource.kind}, { verbs: ['get', 'list'] }) so that generated RBAC allows it, or @Watches/@Owns/@Index to cache it)`, err.status, { cause: err });
    }
  }

  async get<T extends KubernetesObject>(type: ResourceClass<T>, key: ObjectKey): Promise<T> {
    const resource = this.#resources.of(type);
    const namespace = this.#namespaceFor(resource, key.namespace, `get ${resource.kind} ${key.name}`);
    this.#named('get', resource, key.name);
    if (this.#cache?.covers(resource, namespace)) {
      const cached = this.#cache.get<T>(resource, key.name, namespace);
      if (cached) return copy(cached);
      // Not cached means not found (the cache is the operator's view of the cluster).
      throw this.#notFound(resource, key.name);
    }
    return this.#readThrough(resource, () => this.#send<T>('GET', objectPath(resource, namespace, key.name)));
  }

  async getMetadata(type: ResourceClass, key: ObjectKey): Promise<PartialObjectMetadata> {
    const resource = this.#resources.of(type);
    const namespace = this.#namespaceFor(resource, key.namespace, `get ${resource.kind} ${key.name}`);
    this.#named('get', resource, key.name);
    if (this.#cache?.covers(resource, namespace, 'metadata')) {
      const cached = this.#cache.get(resource, key.name, namespace);
      if (cached) return asMetadata(resource, cached, false);
      throw this.#notFound(resource, key.name);
    }
    const raw = await this.#readThrough(resource, () => this.#transport.send<KubernetesObject>('GET', objectPath(resource, namespace, key.name), { accept: METADATA_ACCEPT, signal: this.#signal }));
    return asMetadata(resource, raw, true);
  }

  /** Reads the current state of `obj` from the API server, bypassing the cache (e.g. after a conflict). */
  async readLive<T extends KubernetesObject>(obj: T, signal?: AbortSignal): Promise<T> {
    const { resource, namespace, name } = this.#typed(obj, 'read');
    this.#named('read', resource, name);
    return this.#send<T>('GET', objectPath(resource, namespace, name), {}, signal ?? this.#signal);
  }

  async list<T extends KubernetesObject>(type: ResourceClass<T>, options: ListOptions = {}): Promise<T[]> {
    const resource = this.#resources.of(type);
    const selector = options.labelSelector === undefined ? undefined : parseLabelSelector(options.labelSelector);
    const namespace = resource.namespaced ? options.namespace : undefined;
    if (this.#cache?.covers(resource, namespace)) {
      return this.#cache.list<T>(resource, namespace, selector, options.index).map(copy);
    }
    this.#indexNeedsCache(resource, options, 'list');
    return this.#readThrough(resource, () => this.#listPages(resource, namespace, selector?.toString(), undefined, (raw) => fromWire<T>({ ...raw, apiVersion: resource.apiVersion, kind: resource.kind })));
  }

  async listMetadata(type: ResourceClass, options: ListOptions = {}): Promise<PartialObjectMetadata[]> {
    const resource = this.#resources.of(type);
    const selector = options.labelSelector === undefined ? undefined : parseLabelSelector(options.labelSelector);
    const namespace = resource.namespaced ? options.namespace : undefined;
    if (this.#cache?.covers(resource, namespace, 'metadata')) {
      return this.#cache.list(resource, namespace, selector, options.index).map((obj) => asMetadata(resource, obj, false));
    }
    this.#indexNeedsCache(resource, options, 'listMetadata');
    return this.#readThrough(resource, () => this.#listPages(resource, namespace, selector?.toString(), METADATA_LIST_ACCEPT, (raw) => asMetadata(resource, raw, true)));
  }

  /** Index reads are answered by the cache only. */
  #indexNeedsCache(resource: ResourceInfo, options: ListOptions, verb: string): void {
    if (!options.index || Object.keys(options.index).length === 0) return;
    if (verb === 'list' && this.#cache?.covers(resource, options.namespace, 'metadata')) {
      throw new IndexNotFoundError(`${describeResource(resource)} is cached metadata-only: read it by index with client.listMetadata(${resource.kind}, { index })`);
    }
    throw new IndexNotFoundError(`${describeResource(resource)} is not cached${options.namespace ? ` in namespace ${options.namespace}` : ''}, so it has no index '${Object.keys(options.index).join("', '")}': declare @Index(${resource.kind}, field, (obj) => [...]) on a component`);
  }

  async #listPages<R>(resource: ResourceInfo, namespace: string | undefined, labelSelector: string | undefined, accept: string | undefined, decode: (raw: KubernetesObject) => R): Promise<R[]> {
    const items: R[] = [];
    let continueToken: string | undefined;
    do {
      const page = await this.#transport.send<{ metadata?: { continue?: string }; items?: KubernetesObject[] }>('GET', collectionPath(resource, namespace), {
        query: { labelSelector, limit: String(this.#pageSize), continue: continueToken },
        signal: this.#signal,
        ...(accept ? { accept } : {}),
      });
      for (const raw of page.items ?? []) items.push(decode(raw));
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    return items;
  }

  #query(options: WriteOptions = {}, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return { fieldManager: options.fieldManager ?? this.#fieldManager, dryRun: options.dryRun ? 'All' : undefined, ...extra };
  }

  async create<T extends KubernetesObject>(obj: T, options?: WriteOptions): Promise<T> {
    const { body, resource, namespace } = this.#typed(obj, 'create');
    return this.#send<T>('POST', collectionPath(resource, namespace), { body: toWire(body), query: this.#query(options) });
  }

  async update<T extends KubernetesObject>(obj: T, options?: WriteOptions): Promise<T> {
    const { body, resource, namespace, name } = this.#typed(obj, 'update');
    this.#named('update', resource, name);
    return this.#send<T>('PUT', objectPath(resource, namespace, name), { body: toWire(body), query: this.#query(options) });
  }

  async patch<T extends KubernetesObject>(obj: T, patch: object | JsonPatchOperation[], options: PatchOptions = {}): Promise<T> {
    const { resource, namespace, name } = this.#typed(obj, 'patch');
    this.#named('patch', resource, name);
    return this.#send<T>('PATCH', objectPath(resource, namespace, name), {
      body: patch, contentType: PATCH_CONTENT_TYPES[options.type ?? 'merge'], query: this.#query(options),
    });
  }

  async delete(obj: KubernetesObject, options: DeleteOptions = {}): Promise<void> {
    const { resource, namespace, name } = this.#typed(obj, 'delete');
    this.#named('delete', resource, name);
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    if (options.preconditions) body.preconditions = options.preconditions;
    await this.#transport.send('DELETE', objectPath(resource, namespace, name), { body, query: { dryRun: options.dryRun ? 'All' : undefined }, signal: this.#signal });
  }

  async apply<T extends KubernetesObject>(obj: T, options: ApplyOptions = {}): Promise<T> {
    const typed = this.#typed(obj, 'apply');
    const { resource, namespace, name } = typed;
    this.#named('apply', resource, name);
    const object = { ...typed.body, metadata: { ...typed.body.metadata, name, ...(namespace ? { namespace } : {}) } } as T;
    const owned = options.owned !== false && this.#parent !== undefined && this.#setControllerReference(object, resource);
    const body = toWire(object);
    const force = options.force ?? true;
    const fieldManager = options.fieldManager ?? this.#fieldManager;
    const key = `${resource.apiVersion}/${resource.kind}/${namespace ?? ''}/${name}`;
    // Serialized once: for the digest and as the request's body.
    const json = JSON.stringify(body);
    const digest = hash('sha1', `${fieldManager}\n${force}\n${json}`, 'base64');
    const cacheCovers = !options.dryRun && this.#cache?.covers(resource, namespace) === true;
    // Ownership is decided on the object as it is (cached, else read), never on the body we
    // built: a forced apply would otherwise take the object from its controller silently.
    const live = cacheCovers ? this.#cache.get<T>(resource, name, namespace) : owned ? await this.#readIfExists<T>(resource, namespace, name) : undefined;
    if (owned) this.#checkController(live, resource, name);
    if (cacheCovers) {
      if (live) {
        const applied = this.#applied.entries.get(key);
        const resourceVersion = live.metadata?.resourceVersion;
        if (applied && applied.digest === digest && applied.resourceVersion === resourceVersion) return copy(live);
        // Not applied by this process (e.g. after a restart), or changed since: the
        // server's record of what this manager owns tells whether the apply would change anything.
        if (resourceVersion && applyWouldBeNoOp(body, toWire(live), this.#cache.appliedFields?.(resource, live, fieldManager))) {
          this.#applied.remember(key, { digest, resourceVersion });
          return copy(live);
        }
      }
    }
    let settle!: (resourceVersion: string | undefined) => void;
    const inFlight = new Promise<string | undefined>((resolve) => { settle = resolve; });
    if (cacheCovers) this.#applied.pending.set(key, inFlight);
    try {
      const result = await this.#send<T>('PATCH', objectPath(resource, namespace, name), {
        json, contentType: APPLY_CONTENT_TYPE, query: { ...this.#query({ ...options, fieldManager }), force: force ? 'true' : undefined },
      });
      if (cacheCovers && result.metadata?.resourceVersion) this.#applied.remember(key, { digest, resourceVersion: result.metadata.resourceVersion });
      settle(result.metadata?.resourceVersion);
      return result;
    } finally {
      settle(undefined);
      if (this.#applied.pending.get(key) === inFlight) this.#applied.pending.delete(key);
    }
  }

  /** The object from the API server, or `undefined` when there is none. */
  async #readIfExists<T extends KubernetesObject>(resource: ResourceInfo, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.#send<T>('GET', objectPath(resource, namespace, name));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** @throws {@link AlreadyOwnedError} when `live` is controlled by another object than this client's parent. */
  #checkController(live: KubernetesObject | undefined, resource: ResourceInfo, name: string): void {
    const other = live?.metadata?.ownerReferences?.find((r) => r.controller && r.uid !== this.#parent?.metadata?.uid);
    if (!other) return;
    throw new AlreadyOwnedError(
      `${resource.kind} ${name} is already controlled by ${other.kind} ${other.name} (uid ${other.uid}); not applied`,
      { kind: other.kind, name: other.name, uid: other.uid },
    );
  }

  /** Makes the parent the controller owner in `body`; returns whether it did (not across namespaces or scopes). */
  #setControllerReference(body: KubernetesObject, resource: ResourceInfo): boolean {
    const parent = this.#parent!;
    const parentResource = this.#resources.of(parent);
    const parentNamespace = parent.metadata?.namespace;
    // Kubernetes forbids cluster-scoped objects owned by namespaced ones, and cross-namespace owners.
    if (parentResource.namespaced && (!resource.namespaced || body.metadata?.namespace !== parentNamespace)) return false;
    if (!parent.metadata?.uid || !parent.metadata.name) return false;
    const reference: V1OwnerReference = {
      apiVersion: parentResource.apiVersion,
      kind: parentResource.kind,
      name: parent.metadata.name,
      uid: parent.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    };
    const existing = body.metadata?.ownerReferences ?? [];
    const otherController = existing.find((r) => r.controller && r.uid !== reference.uid);
    if (otherController) {
      throw new AlreadyOwnedError(`${resource.kind} ${body.metadata?.name} is already controlled by ${otherController.kind} ${otherController.name}`,
        { kind: otherController.kind, name: otherController.name, uid: otherController.uid });
    }
    body.metadata = { ...body.metadata, ownerReferences: [...existing.filter((r) => r.uid !== reference.uid), reference] };
    return true;
  }

  status(): StatusClient {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the status client is a view on this client's private members
    const client = this;
    return new (class extends StatusClient {
      async update<T extends KubernetesObject>(obj: T, options?: WriteOptions): Promise<T> {
        const { body, resource, namespace, name } = client.#typed(obj, 'update status of');
        client.#named('update status of', resource, name);
        return client.#send<T>('PUT', objectPath(resource, namespace, name, 'status'), { body: toWire(body), query: client.#query(options) });
      }
      async patch<T extends KubernetesObject>(obj: T, patch: object | JsonPatchOperation[], options: PatchOptions = {}): Promise<T> {
        const { resource, namespace, name } = client.#typed(obj, 'patch status of');
        client.#named('patch status of', resource, name);
        return client.#send<T>('PATCH', objectPath(resource, namespace, name, 'status'), {
          body: patch, contentType: PATCH_CONTENT_TYPES[options.type ?? 'merge'], query: client.#query(options),
        });
      }
    })();
  }
}
