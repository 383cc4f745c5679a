/**
 * An in-memory Kubernetes client for fast unit tests (controller-runtime's `client/fake`).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import type { InformerHandler, LabelSelector, ObjectSource } from '../cache/index.js';
import { parseLabelSelector } from '../cache/selector.js';
import {
  Client, StatusClient,
  type ApplyOptions, type ControllerClient, type DeleteOptions, type JsonPatchOperation, type ListOptions, type ObjectKey,
  type PatchOptions, type WriteOptions,
} from '../client/client.js';
import { ApiError } from '../client/errors.js';
import { AlreadyOwnedError, InvalidObjectError } from '../client/kube-client.js';
import { Registry } from '../declare/registry.js';
import { deepCopy } from '../limits/copy.js';
import type { ResourceClass, ResourceInfo, ResourceLookup } from '../resources/index.js';

/** One request the fake received. */
export interface FakeAction {
  /** `get`, `list`, `create`, `update`, `patch`, `apply`, `delete`, `status-update` or `status-patch`. */
  readonly verb: string;
  readonly resource: ResourceInfo;
  readonly namespace: string | undefined;
  /** `''` for lists. */
  readonly name: string;
  /** The object, patch or options sent, if any. */
  readonly body?: unknown;
}

/**
 * Called before each request is served. Throw (or reject) to make the request fail with
 * that error, e.g. an `ApiError` 409 or 500; await something to slow it down. `signal` is
 * the request's (aborted when the reconcile's context is cancelled).
 */
export type FakeInterceptor = (action: FakeAction, signal: AbortSignal | undefined) => void | Promise<void>;

/** Options of a {@link FakeClient}. */
export interface FakeClientOptions {
  /** Objects the store starts with (created as by `create`, with uid, resourceVersion and generation). */
  objects?: KubernetesObject[];
  /** Where custom resources are declared (default: `Registry.default`). */
  registry?: Registry;
  /** See {@link FakeInterceptor}. */
  intercept?: FakeInterceptor;
}

type Stored = KubernetesObject & { status?: unknown };
type Metadata = NonNullable<KubernetesObject['metadata']>;

// Iterative, as the runtime's: stored objects of any depth can be copied.
const copy = <T>(value: T): T => deepCopy(value);

/** The fields whose changes bump `metadata.generation` (everything but metadata and status). */
function specOf(obj: Stored): string {
  const { metadata: _metadata, status: _status, apiVersion: _apiVersion, kind: _kind, ...rest } = obj as Stored & Record<string, unknown>;
  return JSON.stringify(rest);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** RFC 7386 JSON merge patch (`null` removes a field). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return copy(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new ApiError(422, `invalid JSON pointer '${path}'`, { reason: 'Invalid', code: 422 });
  return path.slice(1).split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** RFC 6902 JSON patch: add, remove, replace and test (move and copy are not supported). */
function jsonPatch(document: unknown, operations: readonly JsonPatchOperation[]): unknown {
  const root: { value: unknown } = { value: copy(document) };
  for (const op of operations) {
    const keys = ['value', ...pointer(op.path)];
    const last = keys.pop()!;
    let container: unknown = root;
    for (const key of keys) container = (container as Record<string, unknown>)?.[key];
    const holder = container as Record<string, unknown> | unknown[] | undefined;
    if (holder === null || typeof holder !== 'object') throw new ApiError(422, `path ${op.path} does not exist`, { reason: 'Invalid', code: 422 });
    const index = Array.isArray(holder) ? (last === '-' ? holder.length : Number(last)) : undefined;
    switch (op.op) {
      case 'test':
        if (JSON.stringify((holder as Record<string, unknown>)[last]) !== JSON.stringify(op.value)) {
          throw new ApiError(422, `the test of ${op.path} failed`, { reason: 'Invalid', code: 422 });
        }
        break;
      case 'add':
        if (Array.isArray(holder)) holder.splice(index!, 0, copy(op.value));
        else holder[last] = copy(op.value);
        break;
      case 'replace':
        if (!(last in holder)) throw new ApiError(422, `path ${op.path} does not exist`, { reason: 'Invalid', code: 422 });
        (holder as Record<string, unknown>)[last] = copy(op.value);
        break;
      case 'remove':
        if (Array.isArray(holder)) holder.splice(index!, 1);
        else delete holder[last];
        break;
      default:
        throw new ApiError(415, `the fake client does not support JSON patch '${op.op}'`, { reason: 'UnsupportedMediaType', code: 415 });
    }
  }
  return root.value;
}

/** The store the clients of one fake share. */
class Store {
  readonly objects = new Map<string, Stored>();
  readonly handlers = new Map<ResourceInfo, Array<InformerHandler<KubernetesObject>>>();
  /** The resourceVersion each apply produced, by key (to recognise its watch event). */
  readonly applied = new Map<string, string>();
  readonly calls: string[] = [];
  readonly actions: FakeAction[] = [];
  version = 0;
  /** Change events not yet delivered: like a watch, they arrive after the request returned. */
  readonly pending: Array<() => void> = [];
  #flushing = false;

  announce(call: () => void): void {
    this.pending.push(call);
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => {
      this.#flushing = false;
      for (const deliver of this.pending.splice(0)) deliver();
    });
  }
}

const keyOf = (resource: ResourceInfo, namespace: string | undefined, name: string) => `${resource.apiVersion}/${resource.kind}/${namespace ?? ''}/${name}`;

/**
 * A fast, in-memory {@link Client} for unit tests of reconcilers and of the runtime
 * (controller-runtime's `client/fake`), with what matters to reconcilers:
 *
 * - `create`, `get`, `list` (namespace and label selectors), `update`, `patch`, `delete`,
 *   `apply`, and `status().update/patch`, on objects of any kind the registry knows;
 * - `metadata.uid`, `resourceVersion` (one counter for the store), `generation` (1 at
 *   creation, bumped when anything outside metadata and status changes) and
 *   `creationTimestamp` are set as the API server sets them;
 * - optimistic concurrency: an update, patch or status write whose
 *   `metadata.resourceVersion` differs from the stored one fails with 409 `Conflict`;
 *   creating an existing object fails with 409 `AlreadyExists`; a missing one is 404;
 * - deletion honours finalizers: an object with finalizers gets a `deletionTimestamp`
 *   and goes away when its last finalizer is removed;
 * - `forParent(parent).apply(child)` makes the parent the child's controller owner (and
 *   fails with `AlreadyOwnedError` when another object controls the stored child);
 * - every request is recorded (`calls`, `actions`), and an interceptor can fail or delay
 *   requests.
 *
 * Limits (it is not an API server): `apply` merges the given object into the stored one
 * (no field ownership: fields dropped from the configuration are not removed, `force` is
 * ignored); strategic merge patches are applied as JSON merge patches; JSON patches support
 * add, remove, replace and test; there is no schema validation, no defaulting, no
 * admission, no garbage collection of owned objects, no `dryRun`, no field selectors, and
 * namespaces need not exist.
 *
 * It also serves the runtime as its controller client, and its {@link FakeClient.source}
 * as its cache (every write is announced to the handlers, in order, on the next turn of the
 * event loop, as a watch delivers events after the request returned), so controllers and
 * the reconcile pipeline run on it without a cluster (see `reconcileOnce`).
 *
 * @example
 * ```ts
 * const client = new FakeClient({ objects: [site] });
 * await new ConfigMapReconciler().reconcile(Context.background(), client.forParent(site), site);
 * const cm = await client.get(V1ConfigMap, { namespace: 'web', name: 'site' });
 * ```
 */
export class FakeClient extends Client implements ControllerClient {
  #store: Store;
  #resources: ResourceLookup;
  readonly #intercept: FakeInterceptor | undefined;
  #parent: KubernetesObject | undefined;
  #signal: AbortSignal | undefined;

  constructor(options: FakeClientOptions = {}) {
    super();
    this.#store = new Store();
    this.#resources = (options.registry ?? Registry.default).resources;
    this.#intercept = options.intercept;
    // The initial state: handlers added later see these objects as adds, no change event is due.
    for (const obj of options.objects ?? []) this.#create(obj);
    this.#store.pending.length = 0;
  }

  /** Every request so far, in order, as `verb Kind/namespace/name` (e.g. `status-patch Widget/web/a`). */
  get calls(): string[] {
    return this.#store.calls;
  }

  /** Every request so far, in order, with its body. */
  get actions(): readonly FakeAction[] {
    return this.#store.actions;
  }

  /** Copies of every stored object (of one kind, when given). */
  objects<T extends KubernetesObject = KubernetesObject>(type?: ResourceClass<T>): T[] {
    const resource = type && this.#resources.of(type);
    return [...this.#store.objects.values()]
      .filter((o) => !resource || (o.apiVersion === resource.apiVersion && o.kind === resource.kind))
      .map((o) => copy(o) as T);
  }

  // ---- requests -------------------------------------------------------------------

  async #begin(verb: string, resource: ResourceInfo, namespace: string | undefined, name: string, body?: unknown): Promise<void> {
    const action: FakeAction = { verb, resource, namespace, name, ...(body === undefined ? {} : { body: copy(body) }) };
    this.#store.actions.push(action);
    this.#store.calls.push(`${verb} ${resource.kind}/${namespace ?? ''}/${name}`);
    if (this.#signal?.aborted) throw new ApiError(0, 'aborted (the reconcile was cancelled)');
    await this.#intercept?.(action, this.#signal);
    if (this.#signal?.aborted) throw new ApiError(0, 'aborted (the reconcile was cancelled)');
  }

  #typed(obj: KubernetesObject, verb: string): { resource: ResourceInfo; namespace: string | undefined; name: string } {
    if (!obj || typeof obj !== 'object') throw new InvalidObjectError(`${verb}: expected a Kubernetes object, got ${obj === null ? 'null' : typeof obj}`);
    const resource = this.#resources.of(obj);
    const name = obj.metadata?.name ?? '';
    const namespace = this.#namespaceFor(resource, obj.metadata?.namespace, `${verb} ${resource.kind} ${name}`);
    if (!name) throw new InvalidObjectError(`${verb} ${resource.kind}: metadata.name is required`);
    return { resource, namespace, name };
  }

  #namespaceFor(resource: ResourceInfo, namespace: string | undefined, what: string): string | undefined {
    if (!resource.namespaced) return undefined;
    const resolved = namespace ?? this.#parent?.metadata?.namespace;
    if (!resolved) throw new InvalidObjectError(`${what}: ${resource.kind} is namespaced; give metadata.namespace`);
    return resolved;
  }

  #notFound(resource: ResourceInfo, name: string): ApiError {
    return new ApiError(404, `${resource.plural} "${name}" not found`, { reason: 'NotFound', code: 404, details: { name, kind: resource.plural } });
  }

  #conflict(resource: ResourceInfo, name: string): ApiError {
    return new ApiError(409, `Operation cannot be fulfilled on ${resource.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { reason: 'Conflict', code: 409 });
  }

  #existing(resource: ResourceInfo, namespace: string | undefined, name: string): Stored {
    const existing = this.#store.objects.get(keyOf(resource, namespace, name));
    if (!existing) throw this.#notFound(resource, name);
    return existing;
  }

  #checkVersion(existing: Stored, wanted: string | undefined, resource: ResourceInfo, name: string): void {
    if (wanted !== undefined && wanted !== '' && wanted !== existing.metadata?.resourceVersion) throw this.#conflict(resource, name);
  }

  /** Stores `next` as the new state of an object (or removes it when its deletion completed), announcing the change. */
  #write(resource: ResourceInfo, next: Stored, previous: Stored | undefined, bumpGeneration: boolean): Stored {
    const metadata: Metadata = { ...next.metadata, resourceVersion: String(++this.#store.version) };
    if (bumpGeneration) metadata.generation = (previous?.metadata?.generation ?? 0) + 1;
    else if (previous?.metadata?.generation !== undefined) metadata.generation = previous.metadata.generation;
    const stored: Stored = { ...next, apiVersion: resource.apiVersion, kind: resource.kind, metadata };
    const key = keyOf(resource, metadata.namespace, metadata.name ?? '');
    if (metadata.deletionTimestamp && (metadata.finalizers ?? []).length === 0) {
      this.#store.objects.delete(key);
      this.#announce(resource, (h) => h.onDelete?.(copy(stored)));
      return copy(stored);
    }
    this.#store.objects.set(key, stored);
    if (previous) this.#announce(resource, (h) => h.onUpdate?.(copy(previous), copy(stored)));
    else this.#announce(resource, (h) => h.onAdd?.(copy(stored)));
    return copy(stored);
  }

  #create(obj: Stored): Stored {
    const { resource, namespace, name } = this.#typed(obj, 'create');
    if (this.#store.objects.has(keyOf(resource, namespace, name))) {
      throw new ApiError(409, `${resource.plural} "${name}" already exists`, { reason: 'AlreadyExists', code: 409 });
    }
    const metadata: Metadata = { ...copy(obj.metadata), name, ...(namespace ? { namespace } : {}), uid: randomUUID(), creationTimestamp: new Date() };
    delete metadata.resourceVersion;
    delete metadata.deletionTimestamp;
    return this.#write(resource, { ...copy(obj), metadata }, undefined, true);
  }

  async get<T extends KubernetesObject>(type: ResourceClass<T>, key: ObjectKey): Promise<T> {
    const resource = this.#resources.of(type);
    const namespace = this.#namespaceFor(resource, key.namespace, `get ${resource.kind} ${key.name}`);
    await this.#begin('get', resource, namespace, key.name);
    return copy(this.#existing(resource, namespace, key.name)) as T;
  }

  async list<T extends KubernetesObject>(type: ResourceClass<T>, options: ListOptions = {}): Promise<T[]> {
    const resource = this.#resources.of(type);
    const namespace = resource.namespaced ? options.namespace : undefined;
    await this.#begin('list', resource, namespace, '');
    const selector = options.labelSelector === undefined ? undefined : parseLabelSelector(options.labelSelector);
    return this.#select(resource, namespace, selector).map((o) => copy(o) as T);
  }

  #select(resource: ResourceInfo, namespace: string | undefined, selector: LabelSelector | undefined): Stored[] {
    return [...this.#store.objects.values()].filter((o) => o.apiVersion === resource.apiVersion && o.kind === resource.kind
      && (namespace === undefined || o.metadata?.namespace === namespace)
      && (!selector || selector.matches(o.metadata?.labels)));
  }

  async create<T extends KubernetesObject>(obj: T, _options?: WriteOptions): Promise<T> {
    const { resource, namespace, name } = this.#typed(obj, 'create');
    await this.#begin('create', resource, namespace, name, obj);
    return this.#create({ ...(obj as Stored), metadata: { ...obj.metadata, namespace } }) as T;
  }

  async update<T extends KubernetesObject>(obj: T, _options?: WriteOptions): Promise<T> {
    const { resource, namespace, name } = this.#typed(obj, 'update');
    await this.#begin('update', resource, namespace, name, obj);
    const existing = this.#existing(resource, namespace, name);
    this.#checkVersion(existing, obj.metadata?.resourceVersion, resource, name);
    const next: Stored = { ...copy(obj as Stored), status: existing.status, metadata: this.#keptMetadata(existing, obj.metadata) };
    return this.#write(resource, next, existing, specOf(next) !== specOf(existing)) as T;
  }

  /** The metadata a write keeps from the stored object (what clients cannot change). */
  #keptMetadata(existing: Stored, given: Metadata | undefined): Metadata {
    const { uid, creationTimestamp, deletionTimestamp, namespace, name } = existing.metadata ?? {};
    return { ...copy(given), uid, creationTimestamp, deletionTimestamp, namespace, name };
  }

  async patch<T extends KubernetesObject>(obj: T, patch: object | JsonPatchOperation[], options: PatchOptions = {}): Promise<T> {
    const { resource, namespace, name } = this.#typed(obj, 'patch');
    await this.#begin('patch', resource, namespace, name, patch);
    const existing = this.#existing(resource, namespace, name);
    const patched = this.#patched(existing, patch, options, resource, name);
    const next: Stored = { ...patched, status: existing.status, metadata: this.#keptMetadata(existing, patched.metadata) };
    return this.#write(resource, next, existing, specOf(next) !== specOf(existing)) as T;
  }

  #patched(existing: Stored, patch: object | JsonPatchOperation[], options: PatchOptions, resource: ResourceInfo, name: string): Stored {
    if (Array.isArray(patch) || options.type === 'json') {
      if (!Array.isArray(patch)) throw new ApiError(400, 'a JSON patch is a list of operations', { reason: 'BadRequest', code: 400 });
      return jsonPatch(existing, patch) as Stored;
    }
    // A resourceVersion in a merge patch is a precondition, as on the API server.
    this.#checkVersion(existing, (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion, resource, name);
    return mergePatch(existing, patch) as Stored;
  }

  async delete(obj: KubernetesObject, options: DeleteOptions = {}): Promise<void> {
    const { resource, namespace, name } = this.#typed(obj, 'delete');
    await this.#begin('delete', resource, namespace, name, options);
    const existing = this.#existing(resource, namespace, name);
    if (options.preconditions?.uid && options.preconditions.uid !== existing.metadata?.uid) throw this.#conflict(resource, name);
    this.#checkVersion(existing, options.preconditions?.resourceVersion, resource, name);
    // With finalizers the object stays, marked for deletion, until the last one is removed.
    if (existing.metadata?.deletionTimestamp) return;
    this.#write(resource, { ...copy(existing), metadata: { ...copy(existing.metadata), deletionTimestamp: new Date() } }, existing, false);
  }

  async apply<T extends KubernetesObject>(obj: T, options: ApplyOptions = {}): Promise<T> {
    const { resource, namespace, name } = this.#typed(obj, 'apply');
    await this.#begin('apply', resource, namespace, name, obj);
    const body = { ...copy(obj as Stored), metadata: { ...copy(obj.metadata), name, ...(namespace ? { namespace } : {}) } };
    const key = keyOf(resource, namespace, name);
    const existing = this.#store.objects.get(key);
    if (options.owned !== false && this.#parent) this.#setControllerReference(body, resource, existing);
    let result: Stored;
    if (!existing) result = this.#create(body);
    else {
      const merged = mergePatch(existing, { ...body, metadata: { ...body.metadata, resourceVersion: undefined } }) as Stored;
      const next: Stored = { ...merged, metadata: this.#keptMetadata(existing, merged.metadata) };
      result = this.#write(resource, next, existing, specOf(next) !== specOf(existing));
    }
    this.#store.applied.set(key, result.metadata?.resourceVersion ?? '');
    return result as T;
  }

  #setControllerReference(body: Stored, resource: ResourceInfo, existing: Stored | undefined): void {
    const parent = this.#parent!;
    const parentResource = this.#resources.of(parent);
    // Kubernetes forbids cluster-scoped objects owned by namespaced ones, and cross-namespace owners.
    if (parentResource.namespaced && (!resource.namespaced || body.metadata?.namespace !== parent.metadata?.namespace)) return;
    if (!parent.metadata?.uid || !parent.metadata.name) return;
    const reference: V1OwnerReference = {
      apiVersion: parentResource.apiVersion, kind: parentResource.kind, name: parent.metadata.name, uid: parent.metadata.uid,
      controller: true, blockOwnerDeletion: true,
    };
    const other = [...(existing?.metadata?.ownerReferences ?? []), ...(body.metadata?.ownerReferences ?? [])]
      .find((r) => r.controller && r.uid !== reference.uid);
    if (other) throw new AlreadyOwnedError(`${resource.kind} ${body.metadata?.name} is already controlled by ${other.kind} ${other.name}`);
    const given = body.metadata?.ownerReferences ?? [];
    body.metadata = { ...body.metadata, ownerReferences: [...given.filter((r) => r.uid !== reference.uid), reference] };
  }

  status(): StatusClient {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the status client is a view on this client's private members
    const client = this;
    return new (class extends StatusClient {
      async update<T extends KubernetesObject>(obj: T, _options?: WriteOptions): Promise<T> {
        const { resource, namespace, name } = client.#typed(obj, 'update status of');
        await client.#begin('status-update', resource, namespace, name, obj);
        const existing = client.#existing(resource, namespace, name);
        client.#checkVersion(existing, obj.metadata?.resourceVersion, resource, name);
        return client.#write(resource, { ...copy(existing), status: copy((obj as Stored).status) }, existing, false) as T;
      }
      async patch<T extends KubernetesObject>(obj: T, patch: object | JsonPatchOperation[], options: PatchOptions = {}): Promise<T> {
        const { resource, namespace, name } = client.#typed(obj, 'patch status of');
        await client.#begin('status-patch', resource, namespace, name, patch);
        const existing = client.#existing(resource, namespace, name);
        const patched = client.#patched(existing, patch, options, resource, name);
        return client.#write(resource, { ...copy(existing), status: patched.status }, existing, false) as T;
      }
    })();
  }

  // ---- the runtime's side ---------------------------------------------------------------

  /** A client on the same store for reconciling `parent` (its `apply` sets the controller owner); its requests fail once `signal` aborts. */
  forParent(parent: KubernetesObject, signal?: AbortSignal): FakeClient {
    const client = new FakeClient({ intercept: this.#intercept });
    client.#store = this.#store;
    client.#resources = this.#resources;
    client.#parent = parent;
    client.#signal = signal;
    return client;
  }

  async readLive<T extends KubernetesObject>(obj: T, _signal?: AbortSignal): Promise<T> {
    const { resource, namespace, name } = this.#typed(obj, 'read');
    await this.#begin('get', resource, namespace, name);
    return copy(this.#existing(resource, namespace, name)) as T;
  }

  isOwnApply(obj: KubernetesObject): boolean {
    const resource = this.#resources.tryOf(obj);
    if (!resource || !obj.metadata?.resourceVersion) return false;
    return this.#store.applied.get(keyOf(resource, obj.metadata.namespace, obj.metadata.name ?? '')) === obj.metadata.resourceVersion;
  }

  /**
   * The store as the runtime's cache sees it (an `ObjectSource`): reads of stored objects
   * (shared, do not modify them) and change callbacks, called after every write (objects
   * already stored are announced as adds at once).
   */
  get source(): ObjectSource {
    const store = this.#store;
    const select = (resource: ResourceInfo, namespace?: string, selector?: LabelSelector) => this.#select(resource, namespace, selector);
    return {
      covers: () => true,
      get: <T extends KubernetesObject>(resource: ResourceInfo, name: string, namespace?: string) =>
        store.objects.get(keyOf(resource, resource.namespaced ? namespace : undefined, name)) as T | undefined,
      list: <T extends KubernetesObject>(resource: ResourceInfo, namespace?: string, selector?: LabelSelector) => select(resource, namespace, selector) as T[],
      addHandler: <T extends KubernetesObject>(resource: ResourceInfo, handler: InformerHandler<T>) => {
        const handlers = store.handlers.get(resource) ?? [];
        handlers.push(handler);
        store.handlers.set(resource, handlers);
        for (const obj of select(resource)) handler.onAdd?.(copy(obj) as T);
      },
    };
  }

  #announce(resource: ResourceInfo, call: (handler: InformerHandler<KubernetesObject>) => void): void {
    const store = this.#store;
    store.announce(() => {
      for (const handler of store.handlers.get(resource) ?? []) call(handler);
    });
  }
}
