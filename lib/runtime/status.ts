/**
 * The runtime's default status writer.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Condition } from '../api/index.js';
import type { Client } from '../client/client.js';
import { isConflict } from '../client/errors.js';
import type { StatusConditionsHandler } from '../conductor/conductor.js';
import type { Context } from '../context/index.js';
import { truncateConditionMessage } from '../limits/index.js';
import type { ResourceInfo } from '../resources/index.js';
import { conditionsToWire, readConditions, rebaseConditions, sameConditions } from '../state/conditions.js';

type WithStatus = KubernetesObject & { status?: { conditions?: unknown; observedGeneration?: unknown } };

const MAX_ATTEMPTS = 5;

/** Re-reads an object from the API server (not the cache), for conflict retries. */
export type LiveReader = (obj: KubernetesObject, signal?: AbortSignal) => Promise<KubernetesObject>;

/**
 * The runtime's default status-conditions handler: writes `status.conditions` (and, for
 * custom resources, `status.observedGeneration`) through the status subresource, each
 * message truncated to the API's limit (32 KiB, with a ` ...` mark), with
 * optimistic concurrency; on `409 Conflict` it re-reads the object from the API server
 * and re-applies only what this conduct changed, up to 5 times. It writes nothing when
 * nothing changed. Built-in kinds keep their own `observedGeneration`, which belongs to
 * their controllers.
 *
 * After a conflict the parent's `status` becomes the re-read one: what was persisted is
 * what condition transitions (and their Events) are relative to.
 *
 * @example
 * ```ts
 * const write = defaultStatusHandler(resource, (obj) => client.readLive(obj));
 * await write(ctx, client, parent, fetchState(ctx).conditions());
 * ```
 */
export function defaultStatusHandler(resource: ResourceInfo, readLive: LiveReader): StatusConditionsHandler<KubernetesObject> {
  const writeGeneration = !resource.builtIn;
  const lastWrites = new LastWrites();
  return async (ctx: Context, client: Client, parent: KubernetesObject, collected: Condition[]) => {
    // Within the API's limit (32 KiB), also for messages of conditions read back from the object.
    const conditions = collected.map((c) => {
      const message = typeof c.message === 'string' ? truncateConditionMessage(c.message) : '';
      return message === c.message ? c : { ...c, message };
    });
    const target = parent as WithStatus;
    // The parent comes from the cache, which may not have seen our previous status write
    // yet (its watch event is still on the way). Compared with that stale copy, a reconcile
    // that computes the earlier conditions again would find "nothing changed" and leave our
    // previous write on the server, for good: status-only changes trigger no reconcile. So a
    // parent still at the version our last write replaced is taken as that write made it.
    lastWrites.catchUp(target);
    const before = readConditions(target);
    const generation = target.metadata?.generation;
    const generationChanged = writeGeneration && generation !== undefined && target.status?.observedGeneration !== generation;
    if (sameConditions(before, conditions) && !generationChanged) return;
    let current: WithStatus = target;
    let desired = conditions;
    for (let attempt = 1; ; attempt++) {
      const status: Record<string, unknown> = { conditions: conditionsToWire(desired) };
      if (writeGeneration && generation !== undefined) status.observedGeneration = generation;
      try {
        const updated = await client.status().patch(current, { metadata: { resourceVersion: current.metadata?.resourceVersion }, status });
        lastWrites.remember(current, updated, status);
        // Later writes of this reconcile (e.g. a finalizer) must start from the new version.
        if (target.metadata && updated.metadata?.resourceVersion) target.metadata.resourceVersion = updated.metadata.resourceVersion;
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
        current = (await readLive(current, ctx.signal));
        const fresh = readConditions(current);
        desired = rebaseConditions(before, conditions, fresh);
        target.status = current.status;
        if (sameConditions(fresh, desired) && (!writeGeneration || generation === undefined || current.status?.observedGeneration === generation)) {
          // Already written (typically by an earlier reconcile of this parent): nothing to do.
          if (target.metadata && current.metadata?.resourceVersion) target.metadata.resourceVersion = current.metadata.resourceVersion;
          return;
        }
      }
    }
  };
}

/** An object's identity for {@link LastWrites}: its uid, else namespace and name. */
const identity = (obj: KubernetesObject): string | undefined =>
  obj.metadata?.uid ?? (obj.metadata?.name ? `${obj.metadata.namespace ?? ''}/${obj.metadata.name}` : undefined);

/**
 * The status writes of one handler, per object: the version each write replaced, the
 * version it made and what it wrote. Bounded: the oldest entries go first.
 */
class LastWrites {
  private readonly writes = new Map<string, { replaced: string; made: string; status: Record<string, unknown> }>();

  remember(before: KubernetesObject, after: KubernetesObject, status: Record<string, unknown>): void {
    const uid = identity(before);
    const replaced = before.metadata?.resourceVersion;
    const made = after.metadata?.resourceVersion;
    if (!uid || !replaced || !made) return;
    this.writes.delete(uid);
    this.writes.set(uid, { replaced, made, status });
    if (this.writes.size > 100_000) this.writes.delete(this.writes.keys().next().value!);
  }

  /** If `obj` is the version our last write replaced, makes it the version that write made. */
  catchUp(obj: WithStatus): void {
    const uid = identity(obj);
    const write = uid ? this.writes.get(uid) : undefined;
    if (!write || !obj.metadata || obj.metadata.resourceVersion !== write.replaced) return;
    obj.metadata.resourceVersion = write.made;
    obj.status = { ...obj.status, ...structuredClone(write.status) };
  }
}
