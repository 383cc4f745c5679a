import type { KubernetesObject } from '@kubernetes/client-node';
import type { Condition } from '../api/index.js';
import type { Client } from '../client/client.js';
import { isConflict } from '../client/errors.js';
import type { StatusConditionsHandler } from '../conductor/conductor.js';
import type { Context } from '../context/index.js';
import type { ResourceInfo } from '../resources/index.js';

type WithStatus = KubernetesObject & { status?: { conditions?: unknown; observedGeneration?: unknown } };

/** Reads the conditions an object carries, with comparable times. */
function persisted(obj: WithStatus): Condition[] {
  const list = obj.status?.conditions;
  if (!Array.isArray(list)) return [];
  return (list as Array<Partial<Condition> & { lastTransitionTime?: Date | string }>).map((c) => ({
    type: String(c.type),
    status: c.status as Condition['status'],
    reason: c.reason ?? '',
    message: c.message ?? '',
    ...(c.observedGeneration === undefined ? {} : { observedGeneration: c.observedGeneration }),
    lastTransitionTime: new Date(c.lastTransitionTime ?? 0),
  }));
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
const same = (a: Condition, b: Condition) => a.type === b.type && a.status === b.status && a.reason === b.reason
  && a.message === b.message && a.observedGeneration === b.observedGeneration && seconds(a.lastTransitionTime) === seconds(b.lastTransitionTime);

function sameList(a: Condition[], b: Condition[]): boolean {
  return a.length === b.length && a.every((c, i) => same(c, b[i]!));
}

/** The wire form of conditions (RFC 3339 times at second precision, as metav1.Time). */
function wire(conditions: Condition[]): Array<Record<string, unknown>> {
  return conditions.map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    ...(c.observedGeneration === undefined ? {} : { observedGeneration: c.observedGeneration }),
    lastTransitionTime: new Date(seconds(c.lastTransitionTime) * 1000).toISOString().replace('.000Z', 'Z'),
  }));
}

/**
 * Re-applies what this conduct changed (relative to `before`) onto the conditions of a
 * fresher copy of the object, so a retry after a conflict keeps others' changes.
 */
function rebase(before: Condition[], after: Condition[], fresh: Condition[]): Condition[] {
  const result = fresh.map((c) => ({ ...c }));
  for (const condition of after) {
    const original = before.find((c) => c.type === condition.type);
    if (original && same(original, condition)) continue;
    const index = result.findIndex((c) => c.type === condition.type);
    // Relative to the fresher object the status may not have changed: keep its transition time.
    if (index >= 0) result[index] = result[index]!.status === condition.status ? { ...condition, lastTransitionTime: result[index]!.lastTransitionTime } : condition;
    else result.push(condition);
  }
  for (const removed of before.filter((c) => !after.some((a) => a.type === c.type))) {
    const index = result.findIndex((c) => c.type === removed.type);
    if (index >= 0) result.splice(index, 1);
  }
  return result;
}

const BUILT_IN_GROUP = /^$|\.k8s\.io$|^(apps|batch|autoscaling|policy)$/;
const MAX_ATTEMPTS = 5;

/** Re-reads an object from the API server (not the cache), for conflict retries. */
export type LiveReader = (obj: KubernetesObject) => Promise<KubernetesObject>;

/**
 * The runtime's default status-conditions handler: writes `status.conditions` (and, for
 * custom resources, `status.observedGeneration`) through the status subresource with
 * optimistic concurrency; on `409 Conflict` it re-reads the object from the API server
 * and re-applies only what this conduct changed, up to 5 times. It writes nothing when
 * nothing changed. Built-in kinds keep their own `observedGeneration`, which belongs to
 * their controllers.
 */
export function defaultStatusHandler(resource: ResourceInfo, readLive: LiveReader): StatusConditionsHandler<KubernetesObject> {
  const writeGeneration = !BUILT_IN_GROUP.test(resource.group);
  const lastWrites = new LastWrites();
  return async (_ctx: Context, client: Client, parent: KubernetesObject, conditions: Condition[]) => {
    const target = parent as WithStatus;
    // The parent comes from the cache, which may not have seen our previous status write
    // yet (its watch event is still on the way). Compared with that stale copy, a reconcile
    // that computes the earlier conditions again would find "nothing changed" and leave our
    // previous write on the server, for good: status-only changes trigger no reconcile. So a
    // parent still at the version our last write replaced is taken as that write made it.
    lastWrites.catchUp(target);
    const before = persisted(target);
    const generation = target.metadata?.generation;
    const generationChanged = writeGeneration && generation !== undefined && target.status?.observedGeneration !== generation;
    if (sameList(before, conditions) && !generationChanged) return;
    let current: WithStatus = target;
    let desired = conditions;
    for (let attempt = 1; ; attempt++) {
      const status: Record<string, unknown> = { conditions: wire(desired) };
      if (writeGeneration && generation !== undefined) status.observedGeneration = generation;
      try {
        const updated = await client.status().patch(current, { metadata: { resourceVersion: current.metadata?.resourceVersion }, status });
        lastWrites.remember(current, updated, status);
        // Later writes of this reconcile (e.g. a finalizer) must start from the new version.
        if (target.metadata && updated.metadata?.resourceVersion) target.metadata.resourceVersion = updated.metadata.resourceVersion;
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
        current = (await readLive(current)) as WithStatus;
        const fresh = persisted(current);
        desired = rebase(before, conditions, fresh);
        // What was persisted is what transitions (and Events) are relative to from now on.
        target.status = current.status;
        if (sameList(fresh, desired) && (!writeGeneration || generation === undefined || current.status?.observedGeneration === generation)) {
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

/** The status transitions between an object's persisted conditions and new ones. */
export function conditionTransitions(parent: KubernetesObject, conditions: Condition[]): Array<{ condition: Condition; previous: Condition['status'] | undefined }> {
  const before = persisted(parent as WithStatus);
  return conditions
    .map((condition) => ({ condition, previous: before.find((b) => b.type === condition.type)?.status }))
    .filter(({ condition, previous }) => condition.status !== previous);
}
