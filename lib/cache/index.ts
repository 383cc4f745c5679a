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
import type { ResourceInfo } from '../resources/index.js';
import { Informer, type InformerHandler } from './informer.js';
import type { LabelSelector } from './selector.js';

export { Backoff } from './backoff.js';
export { Informer } from './informer.js';
export type { InformerHandler, InformerOptions, InformerStats } from './informer.js';
export { InvalidSelectorError, parseLabelSelector } from './selector.js';
export type { LabelSelector } from './selector.js';

/** Read access to cached objects, as the client uses it. */
export interface CacheReader {
  /** Whether objects of `resource` (in `namespace`) are cached. */
  covers(resource: ResourceInfo, namespace?: string): boolean;
  get<T extends KubernetesObject>(resource: ResourceInfo, name: string, namespace?: string): T | undefined;
  list<T extends KubernetesObject>(resource: ResourceInfo, namespace?: string, selector?: LabelSelector): T[];
  /** The fields `fieldManager` owns through its last apply of a cached object, when the cache keeps them (see `Informer.appliedFields`). */
  appliedFields?(resource: ResourceInfo, obj: KubernetesObject, fieldManager: string): AppliedFields | undefined;
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
  /** The operator's field manager, whose own apply entries of `managedFields` the cache keeps (see `InformerOptions.fieldManager`). */
  fieldManager?: string;
}

const keyOf = (resource: ResourceInfo) => `${resource.apiVersion}/${resource.kind}`;

/** Informers by kind, shared by every controller of an operator. */
export class Cache implements ObjectSource {
  readonly #informers = new Map<string, Informer[]>();
  #started = false;

  constructor(private readonly options: CacheOptions) {}

  /** The informers of `resource`, created on first use (and started if the cache runs). */
  informers<T extends KubernetesObject>(resource: ResourceInfo): Informer<T>[] {
    const key = keyOf(resource);
    let informers = this.#informers.get(key);
    if (!informers) {
      const namespaces = resource.namespaced && this.options.namespaces ? this.options.namespaces : [undefined];
      informers = namespaces.map((namespace) => new Informer({
        transport: this.options.transport,
        resource,
        namespace,
        logger: this.options.logger,
        idleTimeoutMs: this.options.idleTimeoutMs,
        fieldManager: this.options.fieldManager,
      }));
      this.#informers.set(key, informers);
      if (this.#started) informers.forEach((i) => i.start());
    }
    return informers as Informer<T>[];
  }

  /** Adds change callbacks to every informer of `resource`. */
  addHandler<T extends KubernetesObject>(resource: ResourceInfo, handler: InformerHandler<T>): void {
    for (const informer of this.informers<T>(resource)) informer.addHandler(handler);
  }

  covers(resource: ResourceInfo, namespace?: string): boolean {
    if (!this.#informers.has(keyOf(resource))) return false;
    if (!resource.namespaced || !this.options.namespaces) return true;
    return namespace !== undefined && this.options.namespaces.includes(namespace);
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

  list<T extends KubernetesObject>(resource: ResourceInfo, namespace?: string, selector?: LabelSelector): T[] {
    const result: T[] = [];
    for (const informer of this.#informers.get(keyOf(resource)) ?? []) {
      if (namespace !== undefined && informer.namespace !== undefined && informer.namespace !== namespace) continue;
      result.push(...(informer.list(resource.namespaced ? namespace : undefined, selector) as T[]));
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
