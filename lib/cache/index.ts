/**
 * The operator's cache: one informer per watched kind (and namespace), serving the
 * reads of reconcilers and the events that drive controllers.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AppliedFields } from '../client/managed-fields.js';
import type { ApiTransport } from '../client/transport.js';
import type { Logger } from '../log/index.js';
import { describe as describeResource, type ResourceInfo } from '../resources/index.js';
import type { Transform } from '../watch/options.js';
import { IndexNotFoundError, type IndexDefinition } from './indexer.js';
import { Informer, type InformerHandler } from './informer.js';
import type { LabelSelector } from './selector.js';

export { Backoff } from './backoff.js';
export { Informer, METADATA_LIST_ACCEPT, METADATA_WATCH_ACCEPT } from './informer.js';
export type { InformerHandler, InformerOptions, InformerStats } from './informer.js';
export { IndexNotFoundError, Indexer, indexValues } from './indexer.js';
export type { IndexDefinition } from './indexer.js';
export { InvalidSelectorError, canonicalLabelSelector, parseFieldSelector, parseLabelSelector } from './selector.js';
export type { FieldSelector, LabelSelector } from './selector.js';

/** What a read needs of the cache: whole objects, or their metadata (which a whole-object cache has too). */
export type CachedForm = 'objects' | 'metadata';

/** Read access to cached objects, as the client uses it. */
export interface CacheReader {
  /**
   * Whether objects of `resource` are cached, in `namespace` (or, without one, in every
   * namespace the operator watches), in the `form` a read needs (default `'objects'`: a
   * metadata-only cache does not cover whole-object reads).
   */
  covers(resource: ResourceInfo, namespace?: string, form?: CachedForm): boolean;
  get<T extends KubernetesObject>(resource: ResourceInfo, name: string, namespace?: string): T | undefined;
  /**
   * Cached objects of a kind, optionally of one namespace, matching a label selector and
   * indexed under the given values (`{ field: value }`).
   *
   * @throws {@link IndexNotFoundError} when an index is asked for that the kind does not have.
   */
  list<T extends KubernetesObject>(resource: ResourceInfo, namespace?: string, selector?: LabelSelector, index?: Readonly<Record<string, string>>): T[];
  /** The fields `fieldManager` owns through its last apply of a cached object, when the cache keeps them (see `Informer.appliedFields`). */
  appliedFields?(resource: ResourceInfo, obj: KubernetesObject, fieldManager: string): AppliedFields | undefined;
}

/** How one kind is cached (the runtime passes the operator's `CacheSpec`s). */
export interface KindCacheOptions {
  readonly resource: ResourceInfo;
  /** Label selector, Kubernetes syntax. */
  readonly labelSelector?: string | undefined;
  /** Field selector, Kubernetes syntax. */
  readonly fieldSelector?: string | undefined;
  readonly metadataOnly?: boolean;
  readonly transform?: Transform | undefined;
  readonly indexes?: readonly IndexDefinition[];
}

/**
 * What a controller reads and watches: cached objects of a kind, and their changes. The
 * {@link Cache} implements it on informers; the testing package's `FakeClient` on its
 * in-memory store.
 */
export interface ObjectSource extends CacheReader {
  /** Adds change callbacks for `resource` (objects already known are announced as adds). */
  addHandler<T extends KubernetesObject>(resource: ResourceInfo, handler: InformerHandler<T>): void;
}

/** Options of a {@link Cache}. */
export interface CacheOptions {
  transport: ApiTransport;
  /** Namespaces to watch (default: all). Cluster-scoped kinds are always watched cluster-wide. */
  namespaces?: readonly string[];
  logger?: Logger;
  /** How long a watch may stay silent before it is reopened (see `InformerOptions.idleTimeoutMs`). */
  idleTimeoutMs?: number;
  /**
   * The kinds to cache and how (selectors, metadata only, transform, indexes): their
   * informers are created at once. Kinds not listed are cached whole when first asked for.
   */
  kinds?: readonly KindCacheOptions[];
  /** The operator's field manager, whose own apply entries of `managedFields` the cache keeps (see `InformerOptions.fieldManager`). */
  fieldManager?: string;
}

const keyOf = (resource: ResourceInfo) => `${resource.apiVersion}/${resource.kind}`;

/**
 * Informers by kind, shared by every controller of an operator: one per kind (per watched
 * namespace for namespaced kinds when the operator is limited to namespaces), however many
 * declarations name the kind.
 */
export class Cache implements ObjectSource {
  readonly #informers = new Map<string, Informer[]>();
  readonly #kinds = new Map<string, KindCacheOptions>();
  #started = false;

  constructor(private readonly options: CacheOptions) {
    for (const kind of options.kinds ?? []) this.#kinds.set(keyOf(kind.resource), kind);
    for (const kind of options.kinds ?? []) this.informers(kind.resource);
  }

  /** The informers of `resource`, created on first use (and started if the cache runs). */
  informers<T extends KubernetesObject>(resource: ResourceInfo): Informer<T>[] {
    const key = keyOf(resource);
    let informers = this.#informers.get(key);
    if (!informers) {
      const namespaces = resource.namespaced && this.options.namespaces ? this.options.namespaces : [undefined];
      const kind = this.#kinds.get(key);
      informers = namespaces.map((namespace) => new Informer({
        transport: this.options.transport,
        resource,
        namespace,
        logger: this.options.logger,
        idleTimeoutMs: this.options.idleTimeoutMs,
        labelSelector: kind?.labelSelector,
        fieldSelector: kind?.fieldSelector,
        metadataOnly: kind?.metadataOnly,
        transform: kind?.transform,
        indexes: kind?.indexes,
        fieldManager: this.options.fieldManager,
      }));
      this.#informers.set(key, informers);
      if (this.#started) informers.forEach((i) => i.start());
    }
    return informers as unknown as Informer<T>[];
  }

  /** Adds change callbacks to every informer of `resource`. */
  addHandler<T extends KubernetesObject>(resource: ResourceInfo, handler: InformerHandler<T>): void {
    for (const informer of this.informers<T>(resource)) informer.addHandler(handler);
  }

  covers(resource: ResourceInfo, namespace?: string, form: CachedForm = 'objects'): boolean {
    const informers = this.#informers.get(keyOf(resource));
    if (!informers) return false;
    if (form === 'objects' && informers.some((i) => i.metadataOnly)) return false;
    // No namespace: every namespace the operator watches (all it may read, for a namespaced operator's RBAC).
    if (!resource.namespaced || !this.options.namespaces || namespace === undefined) return true;
    return this.options.namespaces.includes(namespace);
  }

  get<T extends KubernetesObject>(resource: ResourceInfo, name: string, namespace?: string): T | undefined {
    for (const informer of this.#informers.get(keyOf(resource)) ?? []) {
      if (informer.namespace !== undefined && informer.namespace !== namespace) continue;
      const found = informer.get(name, resource.namespaced ? namespace : undefined);
      if (found) return found as T;
    }
    return undefined;
  }

  appliedFields(resource: ResourceInfo, obj: KubernetesObject, fieldManager: string): AppliedFields | undefined {
    for (const informer of this.#informers.get(keyOf(resource)) ?? []) {
      const fields = informer.appliedFields(obj, fieldManager);
      if (fields) return fields;
    }
    return undefined;
  }

  list<T extends KubernetesObject>(resource: ResourceInfo, namespace?: string, selector?: LabelSelector, index?: Readonly<Record<string, string>>): T[] {
    const informers = this.#informers.get(keyOf(resource));
    if (index && Object.keys(index).length > 0 && !informers) {
      throw new IndexNotFoundError(`${describeResource(resource)} is not cached, so it has no index '${Object.keys(index).join("', '")}': declare @Index(${resource.kind}, field, (obj) => [...]) on a component`);
    }
    const result: T[] = [];
    for (const informer of informers ?? []) {
      if (namespace !== undefined && informer.namespace !== undefined && informer.namespace !== namespace) continue;
      result.push(...(informer.list(resource.namespaced ? namespace : undefined, selector, index) as T[]));
    }
    return result;
  }

  /** Starts every informer (those created later start at once). */
  start(): void {
    this.#started = true;
    for (const informers of this.#informers.values()) informers.forEach((i) => i.start());
  }

  /** Whether every informer has loaded its first list. */
  get synced(): boolean {
    return [...this.#informers.values()].every((informers) => informers.every((i) => i.synced));
  }

  /** Resolves once every informer has loaded its first list. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.#informers.values()].flat().map((i) => i.waitForSync(signal)));
  }

  /** Stops every informer. */
  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all([...this.#informers.values()].flat().map((i) => i.stop()));
  }

  /** Every informer, for diagnostics. */
  all(): Informer[] {
    return [...this.#informers.values()].flat();
  }
}
