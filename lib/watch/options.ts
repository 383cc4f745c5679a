/**
 * The options of the watch declarations: which objects of a kind the cache holds, in
 * what form, and which of their events matter.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { PredicateLike } from './predicates.js';

/**
 * Changes an object before the cache stores it (after `managedFields` were dropped, which
 * always happens): drop what the operator never reads to save memory. It receives the
 * decoded object and returns what is stored (the same object, changed, or a new one). It
 * must not throw: an object it throws on is stored as it came (logged and counted).
 *
 * @example
 * ```ts
 * const dropBinaryData: Transform<V1ConfigMap> = (cm) => { delete cm.binaryData; return cm; };
 * ```
 */
export type Transform<T extends KubernetesObject = KubernetesObject> = (obj: T) => T;

/**
 * The values an object is indexed under for one field (`@Index`): a string, several, or
 * none (`undefined`, `null`, `[]`).
 *
 * @example
 * ```ts
 * const secretNames: IndexFunction<Database> = (db) => [db.spec.secretName, db.spec.backupSecretName].filter(Boolean);
 * ```
 */
export type IndexFunction<T extends KubernetesObject = KubernetesObject> = (obj: T) => string | readonly string[] | undefined | null;

/**
 * Which objects of a kind the operator's cache holds, and how. A kind has one cache for
 * the whole operator, shared by every declaration of it (`@Parent`, `@Owns`, `@Watches`,
 * `@Index`): declarations that set the same option must agree (else `createOperator` and
 * `buildSpecs` report a configuration error), and one that leaves it out accepts the
 * others' — so a `labelSelector` on a `@Watches` narrows what an `@Index` of the kind sees
 * too. An `@Owns` must see its children, so it may not leave out a selector another
 * declaration of its kind sets (a configuration error; to ignore some events of a related
 * kind without narrowing the cache, use a predicate such as `labelSelected`). The cache
 * holds only metadata if every declaration that caches the kind asks for `metadataOnly`.
 */
export interface CacheScope<T extends KubernetesObject = KubernetesObject> {
  /**
   * Only objects with these labels are listed, watched and held (the API server filters).
   * Others are invisible to the operator: cached reads do not find them and they cause no
   * events. Default: every object.
   */
  labelSelector?: string | Record<string, string>;
  /**
   * Only objects whose fields match are listed, watched and held, e.g. `type=kubernetes.io/tls`
   * for Secrets (which fields a kind supports: see `parseFieldSelector`). Default: every object.
   */
  fieldSelector?: string | Record<string, string>;
  /** Applied to every object before it is stored (default: none besides dropping `managedFields`). */
  transform?: Transform<T>;
  /**
   * Hold only `apiVersion`, `kind` and `metadata` (names, labels, annotations, owners): the
   * API server sends `PartialObjectMetadata`, so the objects' content is never transferred
   * nor held. For kinds the operator only needs to know of. Full reads of such a kind
   * (`client.get`, `client.list`) go to the API server; `client.getMetadata` and
   * `client.listMetadata` read the cache; without a `transform`, the cache holds the metadata
   * alone and each read gets a fresh `{ apiVersion, kind, metadata }` around it (shared
   * metadata: do not modify it). Default `false`.
   */
  metadataOnly?: boolean;
}

/** Options of `@Watches`. */
export interface WatchesOptions<T extends KubernetesObject = KubernetesObject> extends CacheScope<T> {
  /** Event filters: an event maps to parents only if every one lets it pass (default: every event). */
  predicates?: Array<PredicateLike<T>>;
}

/** Options of `@Parent` (give them on any one component of the parent; others may repeat them). */
export interface ParentOptions<T extends KubernetesObject = KubernetesObject> {
  /**
   * Event filters on the parent kind, on top of the built-in one (spec, labels,
   * annotations, finalizers or deletion changed): a parent event enqueues only if every
   * one lets it pass. Every parent is still reconciled when the controller starts and on
   * resyncs, and a deletion that left a cleanup to run (see `Cleaner`) is handled whatever
   * the predicates say.
   */
  predicates?: Array<PredicateLike<T>>;
  /** Reconcile only the parents with these labels (see {@link CacheScope.labelSelector}). */
  labelSelector?: string | Record<string, string>;
  /** Reconcile only the parents whose fields match (see {@link CacheScope.fieldSelector}). */
  fieldSelector?: string | Record<string, string>;
  /** See {@link CacheScope.transform}; reconcilers receive the transformed parent. */
  transform?: Transform<T>;
}
