import { AppsV1Api, BatchV1Api, CoreV1Api, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { eventually, startControlPlane, type ControlPlane } from '../../lib/testing/index.js';
import { processesMentioning } from './helpers.js';

const labels = { app: 'web' };

function deployment(replicas: number): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
    },
  };
}

const isReady = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

describe('testing: simulated nodes (startControlPlane({ nodes: 2 }))', function () {
  this.timeout(180_000);
  let plane: ControlPlane;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let namespace: string;

  before(async () => {
    plane = await startControlPlane({ nodes: 2 });
    core = plane.kubeConfig.makeApiClient(CoreV1Api);
    apps = plane.kubeConfig.makeApiClient(AppsV1Api);
    namespace = await plane.createNamespace('nodes');
  });
  after(async () => {
    const dir = plane?.dir;
    await plane?.stop();
    if (dir) expect(processesMentioning(dir), 'no scheduler, kwok or other component left').to.deep.equal([]);
  });

  const pods = async (): Promise<V1Pod[]> => (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items;

  it('has two Ready nodes with room for Pods, kept by kwok', async () => {
    expect(plane.nodes).to.deep.equal(['node-1', 'node-2']);
    const nodes = (await core.listNode()).items;
    expect(nodes.map((n) => n.metadata?.name).sort()).to.deep.equal(['node-1', 'node-2']);
    for (const node of nodes) {
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, node.metadata?.name).to.equal('True');
      expect(node.status?.allocatable?.['pods']).to.equal('110');
      expect(node.spec?.taints ?? [], 'schedulable').to.deep.equal([]);
    }
  });

  it('schedules a Deployment of 3 replicas onto the nodes until it is Available, and replaces a deleted Pod', async () => {
    await apps.createNamespacedDeployment({ namespace, body: deployment(3) });
    await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace });
      return d.status?.availableReplicas === 3 && d.status.readyReplicas === 3 && d.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
    }, { timeoutMs: 60_000, message: 'Deployment web Available with 3 ready replicas' });
    const running = await pods();
    expect(running).to.have.length(3);
    for (const pod of running) {
      expect(isReady(pod), pod.metadata?.name).to.equal(true);
      expect(['node-1', 'node-2'], 'bound by the scheduler').to.include(pod.spec?.nodeName);
      expect(pod.status?.podIP).to.match(/^10\.244\./);
      expect(pod.status?.containerStatuses?.[0]).to.include({ name: 'nginx', ready: true });
    }

    const victim = running[0]!;
    await core.deleteNamespacedPod({ name: victim.metadata!.name!, namespace });
    const replaced = await eventually(async () => {
      const now = await pods();
      const ready = now.filter(isReady);
      return now.every((p) => p.metadata?.uid !== victim.metadata?.uid) && ready.length === 3 ? ready : undefined;
    }, { timeoutMs: 60_000, message: 'the deleted Pod gone and 3 Ready Pods again' });
    expect(replaced.map((p) => p.metadata?.name)).not.to.include(victim.metadata?.name);
    // The Deployment's status follows the Pods' readiness a sync later, so it is awaited too.
    await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace });
      return d.status?.availableReplicas === 3 && d.status.readyReplicas === 3;
    }, { timeoutMs: 30_000, message: 'Deployment web back to 3 available replicas' });
  });

  it('rolls the ReplicaSet when the Pod template changes', async () => {
    const before = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' })).items;
    expect(before).to.have.length(1);
    await apps.patchNamespacedDeployment({
      name: 'web', namespace,
      body: [{ op: 'add', path: '/spec/template/metadata/annotations', value: { 'example.com/revision': '2' } }],
    });
    await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace });
      const done = d.status?.observedGeneration === d.metadata?.generation && d.status?.updatedReplicas === 3 &&
        d.status?.availableReplicas === 3 && d.status?.replicas === 3;
      return done || undefined;
    }, { timeoutMs: 90_000, message: 'the rollout to complete' });
    const sets = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' })).items;
    expect(sets).to.have.length(2);
    const old = sets.find((s) => s.metadata?.uid === before[0]!.metadata?.uid)!;
    expect(old.spec?.replicas, 'the old ReplicaSet scaled down').to.equal(0);
    const current = await eventually(async () => {
      const ready = (await pods()).filter(isReady);
      return ready.length === 3 && ready.every((p) => p.metadata?.annotations?.['example.com/revision'] === '2') ? ready : undefined;
    }, { timeoutMs: 60_000, message: 'only new Pods left' });
    expect(current).to.have.length(3);
  });

  it("runs a Job's Pod to completion", async () => {
    const batch = plane.kubeConfig.makeApiClient(BatchV1Api);
    await batch.createNamespacedJob({
      namespace,
      body: { metadata: { name: 'once' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] } } } },
    });
    const job = await eventually(async () => {
      const j = await batch.readNamespacedJob({ name: 'once', namespace });
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
    }, { timeoutMs: 60_000, message: 'Job once Complete' });
    expect(job.status?.succeeded).to.equal(1);
  });
});
