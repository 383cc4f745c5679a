import type { KubernetesObject } from '@kubernetes/client-node';
import type { ResourceClass } from '../resources/index.js';

/** Names one object: `namespace` is omitted for cluster-scoped kinds. */
export interface ObjectKey {
  name: string;
  namespace?: string;
}

/** Options of {@link Client.list}. */
export interface ListOptions {
  /** Only this namespace (default: every namespace the client can see). */
  namespace?: string;
  /** A label selector string (`app=web,tier!=db`) or a map of required labels. */
  labelSelector?: string | Record<string, string>;
}

/** Options shared by writes. */
export interface WriteOptions {
  /** Validate and compute the result without persisting (`dryRun=All`). */
  dryRun?: boolean;
  /** Overrides the client's field manager for this request. */
  fieldManager?: string;
}

/** Options of {@link Client.patch}. */
export interface PatchOptions extends WriteOptions {
  /** `merge` (JSON merge patch, the default: works for every kind), `strategic` (built-in kinds only) or `json` (RFC 6902 operations). */
  type?: 'merge' | 'strategic' | 'json';
}

/** One RFC 6902 JSON patch operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** Options of {@link Client.apply}. */
export interface ApplyOptions extends WriteOptions {
  /** Take over fields owned by other managers (default `true`, as controllers usually do). */
  force?: boolean;
  /**
   * Whether the object is a child of the parent being reconciled: when `true` (the default
   * for a client given to a reconciler) the parent is set as its controller owner.
   */
  owned?: boolean;
}

/** Options of {@link Client.delete}. */
export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  /** Delete only if the object still has this UID / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

/**
 * Writes to the status subresource: they change only `status` and never bump
 * `metadata.generation`.
 */
export abstract class StatusClient {
  /** Replaces the object's status (optimistic concurrency on `metadata.resourceVersion`). */
  abstract update<T extends KubernetesObject>(obj: T, options?: WriteOptions): Promise<T>;
  /** Patches the object's status (JSON merge patch by default). */
  abstract patch<T extends KubernetesObject>(obj: T, patch: object | JsonPatchOperation[], options?: PatchOptions): Promise<T>;
}

/**
 * The Kubernetes client reconcilers receive (controller-runtime's `client.Client`).
 * Reads (`get`, `list`) are served from the operator's informer cache for watched kinds;
 * writes go to the API server. It is an abstract class so it can be injected.
 *
 * Failed requests throw {@link ApiError} (see `isNotFound`, `isConflict`, ...).
 *
 * @example
 * ```ts
 * const pods = await client.list(V1Pod, { namespace: 'web', labelSelector: { app: 'web' } });
 * await client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web', namespace: 'web' }, data: { a: 'b' } });
 * await client.status().patch(site, { status: { phase: 'Ready' } });
 * ```
 */
export abstract class Client {
  /** Reads one object; throws an {@link ApiError} with status 404 when it does not exist. */
  abstract get<T extends KubernetesObject>(type: ResourceClass<T>, key: ObjectKey): Promise<T>;
  /** Lists objects of a kind, optionally in one namespace and matching labels. */
  abstract list<T extends KubernetesObject>(type: ResourceClass<T>, options?: ListOptions): Promise<T[]>;
  abstract create<T extends KubernetesObject>(obj: T, options?: WriteOptions): Promise<T>;
  /** Replaces the object (optimistic concurrency on `metadata.resourceVersion`). */
  abstract update<T extends KubernetesObject>(obj: T, options?: WriteOptions): Promise<T>;
  abstract patch<T extends KubernetesObject>(obj: T, patch: object | JsonPatchOperation[], options?: PatchOptions): Promise<T>;
  abstract delete(obj: KubernetesObject, options?: DeleteOptions): Promise<void>;
  /**
   * Server-side apply: declares the fields this operator owns. Within a reconcile the
   * parent becomes the object's controller owner (see {@link ApplyOptions.owned}); when
   * another object already controls it (as cached, or read), the apply fails with
   * `AlreadyOwnedError` (reason `AlreadyOwned`) and sends no write.
   */
  abstract apply<T extends KubernetesObject>(obj: T, options?: ApplyOptions): Promise<T>;
  /** Writes through the status subresource. */
  abstract status(): StatusClient;
}

/**
 * What the runtime needs of its client besides the {@link Client} API: a client per
 * parent (its `apply` sets owner references), reads that bypass the cache (after a
 * conflict), and recognising the watch event of its own apply. The runtime's `KubeClient`
 * and the testing package's `FakeClient` implement it.
 */
export interface ControllerClient {
  /**
   * A client for reconciling `parent`: `apply` makes it the controller owner, and its
   * namespace is the default. Its requests abort when `signal` does (the reconcile's
   * context: leadership lost, shutdown).
   */
  forParent(parent: KubernetesObject, signal?: AbortSignal): Client;
  /** Reads the current state of `obj` from the API server, bypassing any cache. */
  readLive<T extends KubernetesObject>(obj: T, signal?: AbortSignal): Promise<T>;
  /**
   * Whether `obj` (as a watch delivered it) is the result of this client's own apply, so
   * that it need not reconcile its parent again; a promise while such an apply is in flight.
   */
  isOwnApply(obj: KubernetesObject): boolean | Promise<boolean>;
}
