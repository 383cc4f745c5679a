// The original conductor README's example, in TypeScript: a Deployment parent, a
// PodReconciler that inspects the Deployment's pods and reports PodReconciled, and a
// status-conditions handler that writes the Deployment's conditions.
import { V1Deployment, V1Pod, V1ReplicaSet, type V1DeploymentCondition } from '@kubernetes/client-node';
import {
  Client, Context, Owns, Parent, Reconciles, StatusConditions, Uses, fetchState,
  type Condition, type HandlesStatusConditions, type Reconciler, type Result,
} from 'maestro-operator';

/** Only Deployments that opt in are reconciled: this label marks them. */
export const OPT_IN = 'maestro.dev/pod-report';

// ReplicaSets are owned by Deployments: their changes (pods created, ready) re-run this.
@Parent(V1Deployment) @Reconciles(10) @Owns(V1ReplicaSet, { verbs: ['get', 'list', 'watch'] }) @Uses(V1Pod, { verbs: ['list'] })
export class PodReconciler implements Reconciler<V1Deployment> {
  async reconcile(ctx: Context, client: Client, deployment: V1Deployment): Promise<Result> {
    if (deployment.metadata?.labels?.[OPT_IN] !== 'true') return {};
    const pods = await client.list(V1Pod, {
      namespace: deployment.metadata.namespace!,
      labelSelector: deployment.spec?.selector.matchLabels ?? {},
    });
    const pending = pods.filter((p) => p.status?.phase === 'Pending').length;
    fetchState(ctx).addCondition({
      type: 'PodReconciled',
      status: 'True',
      reason: 'PodsReconciled',
      message: `${pods.length} pods reconciled (${pending} pending)`,
    });
    return {};
  }
}

@Parent(V1Deployment) @StatusConditions()
export class DeploymentConditions implements HandlesStatusConditions<V1Deployment> {
  async handleStatusConditions(_ctx: Context, client: Client, deployment: V1Deployment, conditions: Condition[]): Promise<void> {
    if (deployment.metadata?.labels?.[OPT_IN] !== 'true') return;
    const current = deployment.status?.conditions ?? [];
    const ours = conditions.filter((c) => c.type === 'PodReconciled');
    const same = ours.every((c) => current.some((d) => d.type === c.type && d.status === c.status && d.reason === c.reason && d.message === c.message));
    if (same) return;
    // Deployment conditions have no observedGeneration; the Deployment controller keeps
    // its own types (Available, Progressing), so only ours are replaced.
    const merged: V1DeploymentCondition[] = [
      ...current.filter((d) => !ours.some((c) => c.type === d.type)),
      ...ours.map(({ type, status, reason, message, lastTransitionTime }) => ({ type, status, reason, message, lastTransitionTime, lastUpdateTime: new Date() })),
    ];
    await client.status().patch(deployment, {
      metadata: { resourceVersion: deployment.metadata?.resourceVersion },
      status: { conditions: merged },
    });
  }
}

export const deploymentPodsComponents = [PodReconciler, DeploymentConditions];
