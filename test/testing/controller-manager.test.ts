import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { eventually, type ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';

describe('testing: the shared control plane runs the controller manager', () => {
  let plane: ControlPlane;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let ns: string;

  before(async () => {
    plane = await sharedControlPlane();
    core = plane.kubeConfig.makeApiClient(CoreV1Api);
    apps = plane.kubeConfig.makeApiClient(AppsV1Api);
  });

  beforeEach(async () => {
    ns = await testNamespace('kcm');
  });

  it('gives a Deployment a ReplicaSet it owns', async () => {
    const labels = { app: 'web' };
    const deployment = await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] } },
        },
      },
    });
    const replicaSet = await eventually(
      async () => (await apps.listNamespacedReplicaSet({ namespace: ns })).items[0],
      { message: 'a ReplicaSet for the Deployment' },
    );
    expect(replicaSet.metadata?.ownerReferences?.[0]).to.include({ kind: 'Deployment', name: 'web', uid: deployment.metadata?.uid });
  });

  it('garbage-collects a ConfigMap when its owner is deleted', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' } } });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: {
          name: 'owned',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true }],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'owner' });
    await eventually(
      async () => !(await core.listNamespacedConfigMap({ namespace: ns })).items.some((c) => c.metadata?.name === 'owned'),
      { message: 'the owned ConfigMap to be collected' },
    );
  });
});
