/**
 * Map functions (controller-runtime's `handler.EnqueueRequestsFromMapFunc`): from an
 * object of a watched kind to the parents to reconcile, and helpers for the usual ones.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Client, ObjectKey } from '../client/client.js';
import type { Logger } from '../log/index.js';
import type { ResourceClass, ResourceInfo } from '../resources/index.js';

/** What a {@link MapFunction} is given besides the object. */
export interface MapContext {
  /**
   * The operator's client, bound to no parent: reads of cached kinds come from the cache
   * (e.g. `list(Parent, { index })`), others go to the API server.
   */
  readonly client: Client;
  /** The parent class of the controller the keys are for. */
  readonly parentType: ResourceClass;
  /** The parent kind. */
  readonly parent: ResourceInfo;
  /** Resolves a class to its kind (built-in kinds and the registry's). */
  resourceOf(type: ResourceClass): ResourceInfo;
  /** Logs with `controller` and `watch` fields. */
  readonly logger: Logger;
  /** Aborts when the controller stops working (leadership lost, shutdown). */
  readonly signal: AbortSignal;
}

/**
 * From an object of a watched kind to the keys of the parents to reconcile. On an update
 * it is called with the old and the new object (a reference that moved tells both
 * parents). A key without `namespace` means the object's namespace for a namespaced parent.
 * A map that throws, rejects or returns anything but an array of keys is logged and
 * counted (`maestro_watch_map_errors_total`), and enqueues nothing; the operator goes on.
 *
 * @example
 * ```ts
 * const toSites: MapFunction<V1ConfigMap> = (cm) => (cm.metadata?.annotations?.['example.com/site'] ?? '').split(',').filter(Boolean).map((name) => ({ name }));
 * ```
 */
export type MapFunction<T extends KubernetesObject = KubernetesObject> = (obj: T, ctx: MapContext) => ObjectKey[] | Promise<ObjectKey[]>;

/** Options of {@link byIndex}. */
export interface ByIndexOptions<T extends KubernetesObject = KubernetesObject> {
  /** The values to look up (default: the object's name). */
  value?: (obj: T) => string | readonly string[] | undefined;
}

const namespaceFor = (ctx: MapContext, obj: KubernetesObject): string | undefined =>
  (ctx.parent.namespaced ? obj.metadata?.namespace : undefined);

const keyOf = (obj: KubernetesObject): ObjectKey => (obj.metadata?.namespace
  ? { name: obj.metadata.name ?? '', namespace: obj.metadata.namespace }
  : { name: obj.metadata?.name ?? '' });

/**
 * Maps an object to the parents whose index `field` holds its name (or `options.value`),
 * in its namespace (every namespace when it or the parent is cluster-scoped): the answer
 * to "which parents reference this Secret by name". Declare the index on the parent with
 * `@Index`. A cached lookup: O(parents found).
 *
 * @example
 * ```ts
 * @Parent(Database) @Reconciles(10)
 * @Index(Database, 'spec.secretName', (db) => [db.spec.secretName])
 * @Watches(V1Secret, byIndex('spec.secretName'))
 * export class ConnectDatabase implements Reconciler<Database> { ... }
 * ```
 */
export function byIndex<T extends KubernetesObject = KubernetesObject>(field: string, options: ByIndexOptions<T> = {}): MapFunction<T> {
  const map: MapFunction<T> = async (obj, ctx) => {
    const given = options.value ? options.value(obj) : obj.metadata?.name;
    const values = given === undefined ? [] : typeof given === 'string' ? [given] : given;
    const namespace = namespaceFor(ctx, obj);
    const keys: ObjectKey[] = [];
    for (const value of values) {
      const parents = await ctx.client.list(ctx.parentType, { namespace, index: { [field]: value } });
      keys.push(...parents.map(keyOf));
    }
    return keys;
  };
  indexLookups.set(map as MapFunction, field);
  return map;
}

/** The parent index each {@link byIndex} map looks up, so that declarations can check it exists before anything runs. */
const indexLookups = new WeakMap<MapFunction, string>();

/** The parent index field `map` looks up, when it was made by {@link byIndex}. */
export const indexLookupOf = (map: MapFunction | undefined): string | undefined => (map ? indexLookups.get(map) : undefined);

/** Options of {@link byOwner}. */
export interface ByOwnerOptions {
  /**
   * The owner kind whose references name parents (default: the parent kind). The keys
   * name the owners, so another kind makes sense only when its objects are named as the
   * parents are.
   */
  type?: ResourceClass;
  /** Only the controller owner reference (default `false`: every owner reference of the kind). */
  controllerOnly?: boolean;
}

const groupOf = (apiVersion: string | undefined) => (apiVersion?.includes('/') ? apiVersion.split('/')[0]! : '');

/**
 * Maps an object to the parents named by its owner references (any of them, not only the
 * controller, unless `controllerOnly`): for kinds a parent owns without being their
 * controller, or that several parents own. `@Owns` already maps children to their
 * controller owner.
 *
 * @example
 * ```ts
 * @Watches(V1Secret, byOwner())  // Secrets that list a Site among their owners reconcile that Site
 * ```
 */
export function byOwner<T extends KubernetesObject = KubernetesObject>(options: ByOwnerOptions = {}): MapFunction<T> {
  return (obj, ctx) => {
    const owner = options.type ? ctx.resourceOf(options.type) : ctx.parent;
    const namespace = namespaceFor(ctx, obj);
    return (obj.metadata?.ownerReferences ?? [])
      .filter((ref) => ref.kind === owner.kind && groupOf(ref.apiVersion) === owner.group && (!options.controllerOnly || ref.controller === true))
      .map((ref) => (namespace ? { name: ref.name, namespace } : { name: ref.name }));
  };
}

/** Options of {@link byLabel}. */
export interface ByLabelOptions {
  /** A label holding the parent's namespace (default: the object's own namespace). */
  namespaceLabel?: string;
}

/**
 * Maps an object to the parent its label `key` names (nothing when it has no such label).
 *
 * @example
 * ```ts
 * @Watches(V1Pod, byLabel('sites.example.com/site'))  // pods labelled with a Site's name reconcile that Site
 * ```
 */
export function byLabel<T extends KubernetesObject = KubernetesObject>(key: string, options: ByLabelOptions = {}): MapFunction<T> {
  return (obj, ctx) => {
    const labels = obj.metadata?.labels ?? {};
    const name = Object.hasOwn(labels, key) ? labels[key] : undefined;
    if (!name) return [];
    if (!ctx.parent.namespaced) return [{ name }];
    const namespace = options.namespaceLabel && Object.hasOwn(labels, options.namespaceLabel) ? labels[options.namespaceLabel] : obj.metadata?.namespace;
    return namespace ? [{ name, namespace }] : [];
  };
}
