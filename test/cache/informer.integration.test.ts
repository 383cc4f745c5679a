import { expect } from 'chai';
import { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import { ApiTransport, Informer, resourceOf } from '../../lib/runtime/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { eventually } from '../support/wait.js';

describe('Informer on a real API server', function () {
  this.timeout(60_000);
  let plane: ControlPlane;
  let core: CoreV1Api;
  before(async () => {
    plane = await sharedControlPlane();
    core = plane.kubeConfig.makeApiClient(CoreV1Api);
  });

  it('lists what exists, then reports adds, updates (old and new) and deletes in order', async () => {
    const ns = await plane.createNamespace('informer');
    for (const name of ['before', 'before-2', 'before-3']) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { v: '0' } } });
    const informer = new Informer<V1ConfigMap>({ transport: ApiTransport.create(plane.kubeConfig), resource: resourceOf(V1ConfigMap), namespace: ns, pageSize: 1 });
    const events: string[] = [];
    informer.addHandler({
      onAdd: (o) => events.push(`add ${o.metadata?.name}`),
      onUpdate: (a, b) => events.push(`update ${a.metadata?.name} ${a.data?.v}->${b.data?.v}`),
      onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    informer.start();
    try {
      await informer.waitForSync();
      // One object per page: every page must be read. (The controller manager may add kube-root-ca.crt.)
      expect(informer.list().map((o) => o.metadata?.name).filter((n) => n !== 'kube-root-ca.crt').sort()).to.deep.equal(['before', 'before-2', 'before-3']);
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'after' }, data: { v: '1' } } });
      await core.replaceNamespacedConfigMap({ namespace: ns, name: 'after', body: { metadata: { name: 'after' }, data: { v: '2' } } });
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'after' });
      await eventually(() => events.includes('delete after'), { message: 'the delete event' });
      expect(events.filter((e) => e.includes('after'))).to.deep.equal(['add after', 'update after 1->2', 'delete after']);
      expect(events.filter((e) => e.startsWith('add before'))).to.deep.equal(['add before', 'add before-2', 'add before-3']);
      const cached = informer.get('before', ns)!;
      expect(cached.metadata?.creationTimestamp, 'client-node model shape').to.be.instanceOf(Date);
      expect(cached.metadata?.managedFields).to.equal(undefined);
      expect(informer.stats.lists).to.equal(1);
    } finally {
      await informer.stop();
    }
  });

  it('sees only its namespace when scoped to one', async () => {
    const mine = await plane.createNamespace('mine');
    const theirs = await plane.createNamespace('theirs');
    await core.createNamespacedConfigMap({ namespace: theirs, body: { metadata: { name: 'foreign' } } });
    const informer = new Informer<V1ConfigMap>({ transport: ApiTransport.create(plane.kubeConfig), resource: resourceOf(V1ConfigMap), namespace: mine });
    informer.start();
    try {
      await informer.waitForSync();
      expect(informer.list().every((o) => o.metadata?.namespace === mine)).to.equal(true);
      expect(informer.get('foreign', theirs)).to.equal(undefined);
    } finally {
      await informer.stop();
    }
  });
});
