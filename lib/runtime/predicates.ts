/**
 * Which watch events of a parent need a reconcile.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Finalizers } from './finalizers.js';

const sameMap = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean => {
  const ak = Object.keys(a ?? {});
  const bk = Object.keys(b ?? {});
  return ak.length === bk.length && ak.every((k) => Object.hasOwn(b ?? {}, k) && a![k] === b![k]);
};

const timeOf = (value: unknown): number | undefined => (value === undefined || value === null ? undefined : new Date(value as string).getTime());

/**
 * Whether an update of a parent needs a reconcile: its generation (spec), labels,
 * annotations, finalizers or deletion timestamp changed. Status-only writes (ours
 * included) do not, which is what keeps a controller from reconciling its own status
 * updates in a loop; nor does the runtime's own adding of its finalizers (the reconcile
 * that added them carried on). Kinds without a generation reconcile on every change.
 */
export function parentChanged(oldObj: KubernetesObject, newObj: KubernetesObject, finalizers: Finalizers | readonly string[] = []): boolean {
  const ours = finalizers instanceof Finalizers ? finalizers : new Finalizers(finalizers);
  const a = oldObj.metadata ?? {};
  const b = newObj.metadata ?? {};
  if (a.generation === undefined && b.generation === undefined) return a.resourceVersion !== b.resourceVersion;
  return a.generation !== b.generation
    || !sameMap(a.labels, b.labels)
    || !sameMap(a.annotations, b.annotations)
    || ours.changed(a.finalizers, b.finalizers)
    || timeOf(a.deletionTimestamp) !== timeOf(b.deletionTimestamp);
}
