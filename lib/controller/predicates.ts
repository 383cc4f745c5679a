import type { KubernetesObject } from '@kubernetes/client-node';

const sameMap = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean => {
  const ak = Object.keys(a ?? {});
  const bk = Object.keys(b ?? {});
  return ak.length === bk.length && ak.every((k) => a![k] === b?.[k]);
};

const sameList = (a: string[] | undefined, b: string[] | undefined): boolean =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((v, i) => v === b![i]);

const timeOf = (value: unknown): number | undefined => (value === undefined || value === null ? undefined : new Date(value as string).getTime());

/** Whether `after` is `before` plus some of `ours` (and nothing else changed). */
function onlyGained(before: string[] | undefined, after: string[] | undefined, ours: readonly string[]): boolean {
  const kept = (after ?? []).filter((f) => !ours.includes(f) || (before ?? []).includes(f));
  return sameList(before, kept) && (after ?? []).length > kept.length;
}

/**
 * Whether an update of a parent needs a reconcile: its generation (spec), labels,
 * annotations, finalizers or deletion timestamp changed. Status-only writes (ours
 * included) do not, which is what keeps a controller from reconciling its own status
 * updates in a loop; nor does the runtime's own adding of `ownFinalizers` (the reconcile
 * that added them carried on). Kinds without a generation reconcile on every change.
 */
export function parentChanged(oldObj: KubernetesObject, newObj: KubernetesObject, ownFinalizers: readonly string[] = []): boolean {
  const a = oldObj.metadata ?? {};
  const b = newObj.metadata ?? {};
  if (a.generation === undefined && b.generation === undefined) return a.resourceVersion !== b.resourceVersion;
  return a.generation !== b.generation
    || !sameMap(a.labels, b.labels)
    || !sameMap(a.annotations, b.annotations)
    || (!sameList(a.finalizers, b.finalizers) && !onlyGained(a.finalizers, b.finalizers, ownFinalizers))
    || timeOf(a.deletionTimestamp) !== timeOf(b.deletionTimestamp);
}
