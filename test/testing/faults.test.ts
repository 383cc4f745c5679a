import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { expect } from 'chai';
import { startControlPlane, type ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { rejectionOf } from './helpers.js';

/** What a watch from `resourceVersion` yields first: an ERROR event's status code, or the first event type. */
function firstWatchOutcome(plane: ControlPlane, path: string, resourceVersion: string): Promise<{ type: string; code?: number }> {
  const watch = new Watch(plane.kubeConfig);
  let controller: AbortController | undefined;
  return new Promise<{ type: string; code?: number }>((resolve, reject) => {
    watch.watch(path, { resourceVersion }, (type, obj: { code?: number }) => {
      resolve(type === 'ERROR' ? { type, code: obj.code } : { type });
    }, (err: unknown) => {
      // A 410 can also come as the HTTP status of the watch request itself.
      const statusCode = (err as { statusCode?: number } | null)?.statusCode;
      if (statusCode) resolve({ type: 'HTTP', code: statusCode });
      else reject(err instanceof Error ? err : new Error('the watch ended without an event'));
    }).then((c) => { controller = c; }, reject);
  }).finally(() => controller?.abort());
}

describe('testing: fault injection', () => {
  describe('on the shared control plane', () => {
    let plane: ControlPlane;
    before(async () => {
      plane = await sharedControlPlane();
    });

    it('keeps the data across an API server restart, on the same address', async () => {
      const ns = await testNamespace('restart');
      const core = plane.kubeConfig.makeApiClient(CoreV1Api);
      const created = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'kept' }, data: { k: 'v' } } });
      const server = plane.server;

      await plane.stopAPIServer();
      expect(await rejectionOf(core.readNamespacedConfigMap({ namespace: ns, name: 'kept' }))).to.be.instanceOf(Error);
      await plane.startAPIServer();

      expect(plane.server).to.equal(server);
      const after = await core.readNamespacedConfigMap({ namespace: ns, name: 'kept' });
      expect(after.metadata?.uid).to.equal(created.metadata?.uid);
      expect(after.data).to.deep.equal({ k: 'v' });
    });

    it('answers 410 Gone to a watch from a resourceVersion older than a restarted API server', async () => {
      const ns = await testNamespace('gone');
      const core = plane.kubeConfig.makeApiClient(CoreV1Api);
      const old = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a' } } });
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'b' } } });
      await plane.restartAPIServer();
      const outcome = await firstWatchOutcome(plane, `/api/v1/namespaces/${ns}/configmaps`, old.metadata!.resourceVersion!);
      expect(outcome.code).to.equal(410);
    });
  });

  describe('on a plane without a watch cache', () => {
    let plane: ControlPlane;
    before(async () => {
      plane = await startControlPlane({ watchCache: false });
    });
    after(async () => {
      await plane?.stop();
    });

    it('answers 410 Gone to a watch from a resourceVersion that compactEtcd() compacted away', async () => {
      const ns = await plane.createNamespace('compact');
      const core = plane.kubeConfig.makeApiClient(CoreV1Api);
      const old = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a' }, data: { v: '0' } } });
      const latest = await core.replaceNamespacedConfigMap({ namespace: ns, name: 'a', body: { ...old, data: { v: '1' } } });
      const path = `/api/v1/namespaces/${ns}/configmaps`;

      // Before compaction the old revision is still readable: the watch replays history.
      expect(await firstWatchOutcome(plane, path, old.metadata!.resourceVersion!)).to.deep.equal({ type: 'MODIFIED' });

      const revision = await plane.compactEtcd();
      expect(revision).to.be.above(Number(latest.metadata!.resourceVersion));
      expect((await firstWatchOutcome(plane, path, old.metadata!.resourceVersion!)).code).to.equal(410);
      // The revision compacted to survives compaction: a watch from it goes on. (Not from `latest`:
      // the API server's own writes, e.g. its lease, may come between it and the compaction.)
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'b' } } });
      expect(await firstWatchOutcome(plane, path, String(revision))).to.deep.equal({ type: 'ADDED' });
    });
  });
});
