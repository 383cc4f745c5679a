/**
 * `maestro-operator/watches`: what related watches, field indexes and event filters are
 * written with (the decorators `@Watches` and `@Index` are exported by the package root).
 *
 * - map functions and helpers for the usual ones: {@link byIndex}, {@link byOwner},
 *   {@link byLabel} (controller-runtime's `handler` package);
 * - event filters: {@link generationChanged}, {@link labelsChanged},
 *   {@link annotationsChanged}, {@link resourceVersionChanged}, {@link labelChanged},
 *   {@link annotationChanged}, {@link fieldChanged}, {@link labelSelected}, composed with
 *   {@link and}, {@link or}, {@link not} (controller-runtime's `predicate` package);
 * - the options that scope a kind's cache ({@link CacheScope}: label and field selectors,
 *   a transform, metadata only) and their types.
 *
 * @example
 * ```ts
 * import { V1Secret } from '@kubernetes/client-node';
 * import { Index, Parent, Reconciles, Watches } from 'maestro-operator';
 * import { byIndex, fieldChanged } from 'maestro-operator/watches';
 *
 * @Parent(Database) @Reconciles(10)
 * @Index(Database, 'spec.secretName', (db) => [db.spec.secretName])
 * @Watches(V1Secret, byIndex('spec.secretName'), { predicates: [fieldChanged('data')] })
 * export class ConnectDatabase implements Reconciler<Database> { ... }
 * ```
 *
 * @module
 */
export { byIndex, byLabel, byOwner } from './handlers.js';
export type { ByIndexOptions, ByLabelOptions, ByOwnerOptions, MapContext, MapFunction } from './handlers.js';
export {
  and, annotationChanged, annotationsChanged, fieldChanged, generationChanged, labelChanged, labelSelected, labelsChanged, not, or,
  resourceVersionChanged, toPredicate,
} from './predicates.js';
export type { Predicate, PredicateLike, UpdateFilter, WatchEvent } from './predicates.js';
export type { CacheScope, IndexFunction, ParentOptions, Transform, WatchesOptions } from './options.js';
export { InvalidSelectorError, canonicalLabelSelector, parseFieldSelector, parseLabelSelector } from './selectors.js';
export type { FieldSelector, LabelSelector } from './selectors.js';
export { IndexNotFoundError } from '../cache/indexer.js';
export type { PartialObjectMetadata } from '../client/client.js';
