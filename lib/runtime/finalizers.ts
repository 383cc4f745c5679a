/**
 * Finalizers, in one place: the runtime adds a parent's finalizers before anything that
 * needs cleaning up can exist, runs each cleanup when the parent is being deleted and
 * removes the finalizer only after it succeeded, and recognises its own additions so
 * they do not reconcile the parent again. (Both are patches: generated RBAC grants `patch`
 * on the parent for this, and only to parents with finalizers.)
 *
 * A finalizer the operator no longer declares is left alone: objects that carry it stay
 * Terminating until it is removed, by a release that still declares it (and runs its
 * cleanup) or by hand (`kubectl patch ... --type=json -p '[{"op":"remove","path":"/metadata/finalizers/0"}]'`).
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Result } from '../api/index.js';
import type { Client } from '../client/client.js';
import type { Logger } from '../log/index.js';

type Parent = KubernetesObject & { metadata: NonNullable<KubernetesObject['metadata']> };

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((v, i) => v === b![i]);

/** The finalizers of one parent kind, and what the runtime does with them. */
export class Finalizers {
  constructor(
    /** The finalizer names, in declaration order. */
    readonly names: readonly string[],
  ) {}

  /** Whether the parent kind has finalizers at all. */
  get any(): boolean {
    return this.names.length > 0;
  }

  /**
   * Adds the missing finalizers with one merge patch conditional on the parent's
   * resourceVersion (a conflict fails the reconcile, which is retried), and updates the
   * parent in place so later writes of the same reconcile use the new resourceVersion.
   */
  async ensure(client: Client, parent: KubernetesObject): Promise<void> {
    const metadata = parent.metadata ?? {};
    const missing = this.names.filter((f) => !metadata.finalizers?.includes(f));
    if (missing.length === 0) return;
    const updated = await client.patch(parent, { metadata: { resourceVersion: metadata.resourceVersion, finalizers: [...(metadata.finalizers ?? []), ...missing] } });
    parent.metadata = { ...metadata, finalizers: updated.metadata?.finalizers, resourceVersion: updated.metadata?.resourceVersion };
  }

  /**
   * For a parent being deleted: runs `cleanup` for each of our finalizers still on it, in
   * order, removing each after its cleanup succeeded (a JSON patch that tests the list
   * first, so a concurrent change of the finalizers fails it and the reconcile is
   * retried). A cleanup that asks to be requeued stops here with its result.
   */
  async finalize(parent: Parent, client: Client, cleanup: (finalizer: string) => Promise<Result>, log: Logger): Promise<Result> {
    for (const finalizer of this.names) {
      const current = parent.metadata.finalizers ?? [];
      if (!current.includes(finalizer)) continue;
      const result = await cleanup(finalizer);
      if (result.requeue || (result.requeueAfter ?? 0) > 0) return result;
      const remaining = current.filter((f) => f !== finalizer);
      const updated = await client.patch(parent, [
        { op: 'test', path: '/metadata/finalizers', value: current },
        { op: 'replace', path: '/metadata/finalizers', value: remaining },
      ], { type: 'json' });
      parent.metadata.finalizers = updated.metadata?.finalizers ?? remaining;
      parent.metadata.resourceVersion = updated.metadata?.resourceVersion;
      log.info({ finalizer }, 'cleanup done; finalizer removed');
    }
    return {};
  }

  /** Whether `after` is `before` plus some of our finalizers, and nothing else changed (our own {@link ensure}). */
  onlyAdded(before: readonly string[] | undefined, after: readonly string[] | undefined): boolean {
    const kept = (after ?? []).filter((f) => !this.names.includes(f) || (before ?? []).includes(f));
    return sameList(before, kept) && (after ?? []).length > kept.length;
  }

  /** Whether the finalizer lists differ in a way that matters (anything but our own additions). */
  changed(before: readonly string[] | undefined, after: readonly string[] | undefined): boolean {
    return !sameList(before, after) && !this.onlyAdded(before, after);
  }
}
