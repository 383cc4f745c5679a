/**
 * Status conditions as data, in one place: reading them from an object, comparing them
 * (at the second precision the API stores), their wire form, the transitions between two
 * lists, and re-basing a change onto a fresher list. The State and the runtime's status
 * writer both use these.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Condition, ConditionStatus } from '../api/index.js';

/** A change of a condition's status during one conduct (used for Events). */
export interface ConditionTransition {
  type: string;
  /** The status before the conduct, or `undefined` when the condition is new. */
  previous: ConditionStatus | undefined;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** A `Date` from a wire time (string or number) or a `Date`; `undefined` when invalid. */
export function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === 'string' || typeof value === 'number') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

/** A copy of a condition (its own `Date`). */
export function copyCondition(condition: Condition): Condition {
  const result: Condition = {
    type: condition.type,
    status: condition.status,
    reason: condition.reason,
    message: condition.message,
    lastTransitionTime: new Date(condition.lastTransitionTime.getTime()),
  };
  if (condition.observedGeneration !== undefined) result.observedGeneration = condition.observedGeneration;
  return result;
}

/**
 * The `status.conditions` of an object as {@link Condition}s, times as `Date`s. Entries
 * without a string `type` are skipped; missing reasons and messages read as `''`.
 */
export function readConditions(obj: KubernetesObject): Condition[] {
  const list = (obj as { status?: { conditions?: unknown } }).status?.conditions;
  if (!Array.isArray(list)) return [];
  const result: Condition[] = [];
  for (const item of list as Array<Partial<Record<keyof Condition, unknown>> | null>) {
    if (!item || typeof item.type !== 'string') continue;
    const condition: Condition = {
      type: item.type,
      status: item.status as ConditionStatus,
      reason: typeof item.reason === 'string' ? item.reason : '',
      message: typeof item.message === 'string' ? item.message : '',
      lastTransitionTime: toDate(item.lastTransitionTime) ?? new Date(0),
    };
    if (typeof item.observedGeneration === 'number') condition.observedGeneration = item.observedGeneration;
    result.push(condition);
  }
  return result;
}

const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** Whether two conditions are equal as the API stores them (times to the second). */
export function sameCondition(a: Condition, b: Condition): boolean {
  return a.type === b.type && a.status === b.status && a.reason === b.reason && a.message === b.message
    && a.observedGeneration === b.observedGeneration && seconds(a.lastTransitionTime) === seconds(b.lastTransitionTime);
}

/** Whether two lists hold equal conditions in the same order. */
export function sameConditions(a: readonly Condition[], b: readonly Condition[]): boolean {
  return a.length === b.length && a.every((c, i) => sameCondition(c, b[i]!));
}

/** The wire form of conditions: RFC 3339 times at second precision, as `metav1.Time`. */
export function conditionsToWire(conditions: readonly Condition[]): Array<Record<string, unknown>> {
  return conditions.map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    ...(c.observedGeneration === undefined ? {} : { observedGeneration: c.observedGeneration }),
    lastTransitionTime: new Date(seconds(c.lastTransitionTime) * 1000).toISOString().replace('.000Z', 'Z'),
  }));
}

/** The conditions of `after` whose status differs from `before` (new conditions included). */
export function conditionTransitions(before: readonly Condition[], after: readonly Condition[]): ConditionTransition[] {
  const result: ConditionTransition[] = [];
  for (const c of after) {
    const previous = before.find((b) => b.type === c.type)?.status;
    if (previous === c.status) continue;
    result.push({ type: c.type, previous, status: c.status, reason: c.reason, message: c.message });
  }
  return result;
}

/**
 * Re-applies what changed from `before` to `after` onto `fresh` (the conditions of a
 * newer copy of the object), so a retry after a conflict keeps what others wrote
 * meanwhile: changed and new conditions replace theirs (keeping the fresher transition
 * time when the status is the same), removed ones are removed.
 */
export function rebaseConditions(before: readonly Condition[], after: readonly Condition[], fresh: readonly Condition[]): Condition[] {
  const result = fresh.map(copyCondition);
  for (const condition of after) {
    const original = before.find((c) => c.type === condition.type);
    if (original && sameCondition(original, condition)) continue;
    const index = result.findIndex((c) => c.type === condition.type);
    if (index < 0) result.push(copyCondition(condition));
    else if (result[index]!.status === condition.status) result[index] = { ...copyCondition(condition), lastTransitionTime: result[index]!.lastTransitionTime };
    else result[index] = copyCondition(condition);
  }
  for (const removed of before.filter((c) => !after.some((a) => a.type === c.type))) {
    const index = result.findIndex((c) => c.type === removed.type);
    if (index >= 0) result.splice(index, 1);
  }
  return result;
}
