/**
 * Event filters (controller-runtime's `predicate` package): which watch events of a kind
 * may enqueue parents. Pure functions of the objects; no I/O.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseLabelSelector } from './selectors.js';

/**
 * Decides, per event, whether it may enqueue parents. A method that is left out lets
 * its events pass. The objects are the cache's: read them, never change them.
 *
 * @example
 * ```ts
 * const onlyTLS: Predicate<V1Secret> = {
 *   create: (s) => s.type === 'kubernetes.io/tls',
 *   update: (_old, s) => s.type === 'kubernetes.io/tls',
 *   delete: (s) => s.type === 'kubernetes.io/tls',
 * };
 * ```
 */
export interface Predicate<T extends KubernetesObject = KubernetesObject> {
  /** An object appeared (also for every object of the first list). */
  create?(obj: T): boolean;
  /** An object changed. */
  update?(oldObj: T, newObj: T): boolean;
  /** An object went away (or stopped matching the cache's selectors). */
  delete?(obj: T): boolean;
}

/** A bare function filters updates only: creates and deletes pass. */
export type UpdateFilter<T extends KubernetesObject = KubernetesObject> = (oldObj: T, newObj: T) => boolean;

/** What the `predicates` options accept: a {@link Predicate} or an update filter. */
export type PredicateLike<T extends KubernetesObject = KubernetesObject> = Predicate<T> | UpdateFilter<T>;

/** One watch event, as predicates see it. */
export type WatchEvent<T extends KubernetesObject = KubernetesObject> =
  | { readonly type: 'create'; readonly obj: T }
  | { readonly type: 'update'; readonly oldObj: T; readonly newObj: T }
  | { readonly type: 'delete'; readonly obj: T };

/** A {@link PredicateLike} as a {@link Predicate}. */
export function toPredicate<T extends KubernetesObject>(predicate: PredicateLike<T>): Predicate<T> {
  return typeof predicate === 'function' ? { update: predicate } : predicate;
}

/** Whether `predicate` lets `event` pass (a missing method passes). */
export function allows<T extends KubernetesObject>(predicate: Predicate<T>, event: WatchEvent<T>): boolean {
  switch (event.type) {
    case 'create': return predicate.create ? predicate.create(event.obj) : true;
    case 'update': return predicate.update ? predicate.update(event.oldObj, event.newObj) : true;
    case 'delete': return predicate.delete ? predicate.delete(event.obj) : true;
  }
}

const sameMap = (a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean => {
  const ak = Object.keys(a ?? {});
  const bk = Object.keys(b ?? {});
  return ak.length === bk.length && ak.every((k) => Object.hasOwn(b ?? {}, k) && a![k] === b![k]);
};

const own = (map: Readonly<Record<string, string>> | undefined, key: string): string | undefined =>
  map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;

/**
 * Updates pass when `metadata.generation` changed (the spec changed): status-only and
 * metadata-only writes are filtered out. Kinds without a generation (ConfigMaps, Secrets)
 * never pass updates with it. controller-runtime's `GenerationChangedPredicate`.
 */
export const generationChanged: Predicate = Object.freeze({
  update: (oldObj: KubernetesObject, newObj: KubernetesObject) => oldObj.metadata?.generation !== newObj.metadata?.generation,
});

/** Updates pass when `metadata.resourceVersion` changed (any write). controller-runtime's `ResourceVersionChangedPredicate`. */
export const resourceVersionChanged: Predicate = Object.freeze({
  update: (oldObj: KubernetesObject, newObj: KubernetesObject) => oldObj.metadata?.resourceVersion !== newObj.metadata?.resourceVersion,
});

/** Updates pass when the labels changed. controller-runtime's `LabelChangedPredicate`. */
export const labelsChanged: Predicate = Object.freeze({
  update: (oldObj: KubernetesObject, newObj: KubernetesObject) => !sameMap(oldObj.metadata?.labels, newObj.metadata?.labels),
});

/** Updates pass when the annotations changed. controller-runtime's `AnnotationChangedPredicate`. */
export const annotationsChanged: Predicate = Object.freeze({
  update: (oldObj: KubernetesObject, newObj: KubernetesObject) => !sameMap(oldObj.metadata?.annotations, newObj.metadata?.annotations),
});

/**
 * Updates pass when the label `key` was added, removed or changed.
 *
 * @example
 * ```ts
 * @Watches(V1Namespace, byLabel('tenants.example.com/name'), { predicates: [labelChanged('tenants.example.com/tier')] })
 * ```
 */
export function labelChanged(key: string): Predicate {
  return { update: (oldObj, newObj) => own(oldObj.metadata?.labels, key) !== own(newObj.metadata?.labels, key) };
}

/**
 * Updates pass when the annotation `key` was added, removed or changed.
 *
 * @example
 * ```ts
 * @Owns(V1Deployment, { predicates: [annotationChanged('example.com/restartedAt')] })
 * ```
 */
export function annotationChanged(key: string): Predicate {
  return { update: (oldObj, newObj) => own(oldObj.metadata?.annotations, key) !== own(newObj.metadata?.annotations, key) };
}

const at = (obj: unknown, path: readonly string[]): unknown => {
  let value = obj;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
};

const sameValue = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ak = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
};

/**
 * Updates pass when the value at a dotted path (`data`, `spec.template`, `status.phase`)
 * changed (compared deeply; a missing field equals `undefined`).
 *
 * @example
 * ```ts
 * @Watches(V1ConfigMap, byIndex('spec.themeRef'), { predicates: [or(fieldChanged('data'), fieldChanged('binaryData'))] })
 * ```
 */
export function fieldChanged(path: string): Predicate {
  const keys = path.split('.').filter(Boolean);
  return { update: (oldObj, newObj) => !sameValue(at(oldObj, keys), at(newObj, keys)) };
}

/**
 * Events pass only for objects whose labels match `selector` (for updates: the new
 * object). Unlike a cache's `labelSelector`, the other objects are still cached (and
 * readable); only their events are ignored. controller-runtime's `LabelSelectorPredicate`.
 *
 * @throws `InvalidSelectorError` for a malformed selector.
 * @example
 * ```ts
 * @Watches(V1Secret, byIndex('spec.secretName'), { predicates: [labelSelected({ 'example.com/watched': 'true' })] })
 * ```
 */
export function labelSelected(selector: string | Readonly<Record<string, string>>): Predicate {
  const parsed = parseLabelSelector(selector);
  return {
    create: (obj) => parsed.matches(obj.metadata?.labels),
    update: (_oldObj, newObj) => parsed.matches(newObj.metadata?.labels),
    delete: (obj) => parsed.matches(obj.metadata?.labels),
  };
}

/** The event kinds a predicate can decide. */
const KINDS = ['create', 'update', 'delete'] as const;

/**
 * A predicate that decides, for each event kind, with `decide` over the predicates that
 * define a method for it (`defined`), and leaves the kinds `has` rejects undecided (they pass).
 */
function compose<T extends KubernetesObject>(
  predicates: ReadonlyArray<Predicate<T>>,
  has: (defined: number, all: number) => boolean,
  decide: (defined: ReadonlyArray<Predicate<T>>, event: WatchEvent<T>) => boolean,
): Predicate<T> {
  const result: Predicate<T> = {};
  for (const kind of KINDS) {
    const defined = predicates.filter((p) => p[kind] !== undefined);
    if (!has(defined.length, predicates.length)) continue;
    if (kind === 'update') result.update = (oldObj, newObj) => decide(defined, { type: 'update', oldObj, newObj });
    else result[kind] = (obj: T) => decide(defined, { type: kind, obj });
  }
  return result;
}

/**
 * Events pass when every one of `predicates` lets them pass. An event kind none of them
 * decides (e.g. creates, for update filters) passes.
 *
 * @example
 * ```ts
 * and(labelSelected('tier=web'), generationChanged)
 * ```
 */
export function and<T extends KubernetesObject>(...predicates: Array<PredicateLike<T>>): Predicate<T> {
  return compose(predicates.map(toPredicate), (defined) => defined > 0, (defined, event) => defined.every((p) => allows(p, event)));
}

/**
 * Events pass when at least one of `predicates` lets them pass (none given: nothing passes).
 * An event kind one of them does not decide passes (that one lets it).
 *
 * @example
 * ```ts
 * or(generationChanged, labelsChanged, annotationChanged('example.com/pause'))
 * ```
 */
export function or<T extends KubernetesObject>(...predicates: Array<PredicateLike<T>>): Predicate<T> {
  return compose(predicates.map(toPredicate), (defined, all) => defined === all, (defined, event) => defined.some((p) => allows(p, event)));
}

/**
 * Events pass when `predicate` does not let them pass, for the event kinds it decides; the
 * kinds it leaves out still pass. So `not(labelChanged(key))` passes the updates that leave
 * the label alone, and every create and delete. (controller-runtime's `Not` negates all
 * kinds, so there `Not(LabelChangedPredicate{})` drops creates and deletes too; to drop a
 * kind here, say so: `{ create: () => false }`.)
 *
 * @example
 * ```ts
 * not(labelSelected('example.com/ignore=true'))   // decides all kinds: drops every event of such objects
 * not(annotationChanged('example.com/last-seen')) // drops updates that change that annotation; creates and deletes pass
 * ```
 */
export function not<T extends KubernetesObject>(predicate: PredicateLike<T>): Predicate<T> {
  return compose([toPredicate(predicate)], (defined) => defined > 0, ([p], event) => !allows(p!, event));
}
