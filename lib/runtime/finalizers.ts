/**
 * Finalizers, in one place: the runtime adds a parent's finalizers before anything that
 * needs cleaning up can exist, runs each cleanup when the parent is being deleted and
 * removes the finalizer only after it succeeded, and recognises its own additions so
 * they do not reconcile the parent again. (Both are patches: generated RBAC grants `patch`
 * on the parent for this, and only to parents with finalizers.)
 *
 * The API server can delete a parent whose finalizer is being added: a delete that read the
 * object before the finalizer was there removes it anyway (kubernetes/kubernetes#77988, not
 * fixed in 1.36), while the patch that added the finalizer succeeds. The parent's last state,
 * as the watch delivers its deletion, then still carries our finalizer:
 * {@link Finalizers.missedCleanup} recognises it, and the controller runs the cleanup for it.
 *
 * A finalizer the operator no longer declares would leave objects that carry it
 * Terminating forever. List it in the operator's `retiredFinalizers` option: the runtime
 * then removes it from every parent it reconciles, live or being deleted, without any
 * cleanup (see the README's "Retiring a finalizer").
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Result } from '../api/index.js';
import type { Client } from '../client/client.js';
import { isConflict, isInvalid, isNotFound } from '../client/errors.js';
import type { Logger } from '../log/index.js';

type Parent = KubernetesObject & { metadata: NonNullable<KubernetesObject['metadata']> };

/** Re-reads a parent from the API server. */
export type FinalizerLiveReader = (obj: KubernetesObject, signal?: AbortSignal) => Promise<KubernetesObject>;

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((v, i) => v === b![i]);

const uidOf = (obj: KubernetesObject): string => obj.metadata?.uid ?? `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;

/** Attempts to remove one finalizer when the list keeps moving under us. */
const REMOVE_ATTEMPTS = 5;
/** Objects whose successful cleanup is remembered until their finalizer is removed. */
const CLEANED_LIMIT = 10_000;

/** Options of {@link Finalizers.finalize}. */
export interface FinalizeOptions {
  /** Re-reads the parent when a removal finds the finalizer list moved (without it, the removal fails the reconcile). */
  readLive?: FinalizerLiveReader;
  /**
   * The parent is gone already (deleted with our finalizer on it, see
   * {@link Finalizers.missedCleanup}): run the cleanups, remove nothing.
   */
  gone?: boolean;
}

/** The finalizers of one parent kind, and what the runtime does with them. */
export class Finalizers {
  /** Finalizers no longer declared: removed from every parent without cleanup. */
  readonly retired: readonly string[];
  /**
   * Finalizers whose cleanup succeeded but which are not removed yet, by the object's
   * uid: a retry removes them without running the cleanup again.
   */
  readonly #cleaned = new Map<string, Set<string>>();

  constructor(
    /** The finalizer names, in declaration order. */
    readonly names: readonly string[],
    retired: readonly string[] = [],
  ) {
    this.retired = retired.filter((f) => !names.includes(f));
  }

  /** Whether the parent kind has finalizers to add or to retire. */
  get any(): boolean {
    return this.names.length > 0 || this.retired.length > 0;
  }

  /**
   * Adds the missing finalizers and drops the retired ones with one merge patch
   * conditional on the parent's resourceVersion (a conflict fails the reconcile, which is
   * retried), and updates the parent in place so later writes of the same reconcile use
   * the new resourceVersion. Writes nothing when the list is as it should be.
   */
  async ensure(client: Client, parent: KubernetesObject): Promise<void> {
    const metadata = parent.metadata ?? {};
    const current = metadata.finalizers ?? [];
    const kept = current.filter((f) => !this.retired.includes(f));
    const missing = this.names.filter((f) => !kept.includes(f));
    if (missing.length === 0 && kept.length === current.length) return;
    const updated = await client.patch(parent, { metadata: { resourceVersion: metadata.resourceVersion, finalizers: [...kept, ...missing] } });
    parent.metadata = { ...metadata, finalizers: updated.metadata?.finalizers, resourceVersion: updated.metadata?.resourceVersion };
  }

  /**
   * For a parent being deleted: removes the retired finalizers (no cleanup), then runs
   * `cleanup` for each of our finalizers still on it, in order, removing each after its
   * cleanup succeeded. A cleanup that asks to be requeued stops here with its result.
   *
   * A finalizer is removed by its index, with a JSON patch that tests that element first:
   * other controllers may add or remove their own finalizers meanwhile without failing it.
   * When the list did move under us, it is read again and the removal retried, without
   * running the cleanup again; and a cleanup that succeeded is remembered (in this
   * process) until its finalizer is removed, so a reconcile retried after a failed removal
   * does not run it twice either. (After a restart it may: cleanups must be idempotent.)
   */
  async finalize(parent: Parent, client: Client, cleanup: (finalizer: string) => Promise<Result>, log: Logger, options: FinalizeOptions = {}): Promise<Result> {
    const uid = uidOf(parent);
    const { gone = false, readLive } = options;
    for (const finalizer of gone ? [] : this.retired) {
      if (!(parent.metadata.finalizers ?? []).includes(finalizer)) continue;
      if (await this.#remove(parent, finalizer, client, readLive)) log.info({ finalizer }, 'retired finalizer removed without cleanup');
    }
    for (const finalizer of this.names) {
      if (!(parent.metadata.finalizers ?? []).includes(finalizer)) continue;
      if (this.#cleaned.get(uid)?.has(finalizer)) {
        log.info({ finalizer }, 'cleanup already done; removing the finalizer');
      } else {
        const result = await cleanup(finalizer);
        if (result.requeue || (result.requeueAfter ?? 0) > 0) return result;
        this.#remember(uid, finalizer);
      }
      if (gone) {
        log.info({ finalizer }, 'cleanup done for a parent deleted before it');
        continue;
      }
      const removed = await this.#remove(parent, finalizer, client, readLive);
      this.#forget(uid, finalizer);
      if (removed) log.info({ finalizer }, 'cleanup done; finalizer removed');
    }
    if (gone) this.#cleaned.delete(uid);
    return {};
  }

  /**
   * Whether `obj`, as it was when it was deleted, carried one of our finalizers but no
   * deletion timestamp: it was removed without ever being marked for deletion, so its
   * cleanup never ran. The API server does this when a delete races the finalizer's
   * addition (kubernetes/kubernetes#77988). (A deletion that went the usual way shows the
   * timestamp, with our finalizer too when the removal of the last finalizer deleted it, or
   * when someone removed our finalizer to skip the cleanup on purpose.) Run the cleanup with
   * {@link finalize} and `gone: true`.
   */
  missedCleanup(obj: KubernetesObject): boolean {
    const finalizers = obj.metadata?.finalizers ?? [];
    return !obj.metadata?.deletionTimestamp && this.names.some((f) => finalizers.includes(f));
  }

  /**
   * Removes `finalizer` from the parent (by index, tested); re-reads the parent and tries
   * again when the list moved. Resolves with whether this call removed it (false when it
   * was gone already, or the object is).
   */
  async #remove(parent: Parent, finalizer: string, client: Client, readLive: FinalizerLiveReader | undefined): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const list = parent.metadata.finalizers ?? [];
      const index = list.indexOf(finalizer);
      if (index < 0) return false;
      try {
        const updated = await client.patch(parent, [
          { op: 'test', path: `/metadata/finalizers/${index}`, value: finalizer },
          { op: 'remove', path: `/metadata/finalizers/${index}` },
        ], { type: 'json' });
        parent.metadata.finalizers = updated.metadata?.finalizers ?? list.filter((_, i) => i !== index);
        parent.metadata.resourceVersion = updated.metadata?.resourceVersion ?? parent.metadata.resourceVersion;
        return true;
      } catch (err) {
        if (isNotFound(err)) return false; // the last finalizer went, and the object with it
        // A failed test (422) or a conflict: the list moved. Anything else fails the reconcile.
        if (!readLive || attempt >= REMOVE_ATTEMPTS || !(isInvalid(err) || isConflict(err))) throw err;
        let live: KubernetesObject;
        try {
          live = await readLive(parent);
        } catch (readErr) {
          if (isNotFound(readErr)) return false;
          throw readErr;
        }
        parent.metadata.finalizers = live.metadata?.finalizers ?? [];
        parent.metadata.resourceVersion = live.metadata?.resourceVersion;
      }
    }
  }

  #remember(uid: string, finalizer: string): void {
    let done = this.#cleaned.get(uid);
    if (!done) {
      this.#cleaned.set(uid, (done = new Set()));
      // Oldest first: bounded, for objects whose removal never succeeded in this process.
      if (this.#cleaned.size > CLEANED_LIMIT) this.#cleaned.delete(this.#cleaned.keys().next().value!);
    }
    done.add(finalizer);
  }

  #forget(uid: string, finalizer: string): void {
    const done = this.#cleaned.get(uid);
    done?.delete(finalizer);
    if (done?.size === 0) this.#cleaned.delete(uid);
  }

  /** Whether `after` is `before` plus some of our finalizers, and nothing else changed (our own {@link ensure} without retired finalizers). */
  onlyAdded(before: readonly string[] | undefined, after: readonly string[] | undefined): boolean {
    const kept = (after ?? []).filter((f) => !this.names.includes(f) || (before ?? []).includes(f));
    return sameList(before, kept) && (after ?? []).length > kept.length;
  }

  /**
   * Whether `after` is what our own {@link ensure} makes of `before`: the retired
   * finalizers dropped and some of ours appended, nothing else changed.
   */
  ownEdit(before: readonly string[] | undefined, after: readonly string[] | undefined): boolean {
    const previous = before ?? [];
    const next = after ?? [];
    const kept = previous.filter((f) => !this.retired.includes(f));
    if (next.length < kept.length || !kept.every((f, i) => next[i] === f)) return false;
    const added = next.slice(kept.length);
    if (!added.every((f) => this.names.includes(f) && !kept.includes(f))) return false;
    return added.length > 0 || kept.length < previous.length;
  }

  /** Whether the finalizer lists differ in a way that matters (anything but our own edits). */
  changed(before: readonly string[] | undefined, after: readonly string[] | undefined): boolean {
    return !sameList(before, after) && !this.ownEdit(before, after);
  }
}
