import { expect } from 'chai';
import { AppsV1Api } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { startOperator, stopOperators } from '../support/operators.js';
import { eventually } from '../support/wait.js';
import { OPT_IN, deploymentPodsComponents } from '../../samples/deployment-pods/reconcilers.js';

describe('samples/deployment-pods', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  before(async () => { plane = await sharedControlPlane(); });
  after(() => stopOperators());

  it('reports PodReconciled on a Deployment whose ReplicaSet and Pods the controller manager created, until they run', async () => {
    const ns = await plane.createNamespace('deploy-pods');
    await startOperator(plane.kubeConfig, { name: 'deployment-pods', reconcilers: deploymentPodsComponents, namespaces: [ns] });
    const apps = plane.kubeConfig.makeApiClient(AppsV1Api);
    const labels = { app: 'web' };
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web', labels: { [OPT_IN]: 'true' } },
        spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
      },
    });
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: { metadata: { name: 'ignored' }, spec: { replicas: 1, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', image: 'nginx:1.27' }] } } } },
    });
    const condition = await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      const c = d.status?.conditions?.find((x) => x.type === 'PodReconciled');
      // The shared plane has nodes: the Pods are scheduled and run, and the ReplicaSet's
      // changes re-run the reconciler until none is pending.
      return c?.message === '2 pods reconciled (0 pending)' ? c : undefined;
    }, { timeoutMs: 60_000, message: 'PodReconciled with 2 running pods' });
    expect(condition).to.include({ status: 'True', reason: 'PodsReconciled' });
    const replicaSets = await apps.listNamespacedReplicaSet({ namespace: ns });
    expect(replicaSets.items.map((r) => r.metadata?.ownerReferences?.[0]?.name)).to.include('web');
    const deployment = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(deployment.status?.conditions?.map((c) => c.type), 'the Deployment controller keeps its own conditions').to.include('Progressing');
    const ignored = await apps.readNamespacedDeployment({ name: 'ignored', namespace: ns });
    expect(ignored.status?.conditions?.some((c) => c.type === 'PodReconciled') ?? false).to.equal(false);
  });
});
