/**
 * The RBAC a parent's caches need: `list` and `watch` on every kind it watches (`@Watches`,
 * `@Owns`) or indexes (`@Index`). Reads of those kinds come from the cache, so no `get`;
 * reads that go to the API server are declared with `@Uses` (its verbs are granted as given).
 *
 * @module
 */
import type { ParentSpec } from '../declare/specs.js';
import type { ResourceInfo } from '../resources/index.js';

/** What an informer needs on a kind: its list, then its watch. */
export const CACHED_KIND_VERBS: readonly string[] = Object.freeze(['list', 'watch']);

/**
 * The permissions of a parent's cached kinds besides the parent itself: `list` and `watch`
 * on each kind of `parent.watches` and `parent.indexes`, once per kind. Namespaced kinds
 * go into the per-namespace Roles of a namespaced operator, like every namespaced grant.
 *
 * @example
 * ```ts
 * watchPermissions(buildSpecs({ components: [ConnectDatabase] }).parents[0]);
 * // [{ resource: <secrets>, verbs: ['list', 'watch'] }]
 * ```
 */
export function watchPermissions(parent: ParentSpec): Array<{ resource: ResourceInfo; verbs: readonly string[] }> {
  const kinds = new Set<ResourceInfo>();
  for (const watch of parent.watches) kinds.add(watch.resource);
  for (const index of parent.indexes) if (index.resource !== parent.resource) kinds.add(index.resource);
  return [...kinds].map((resource) => ({ resource, verbs: CACHED_KIND_VERBS }));
}
