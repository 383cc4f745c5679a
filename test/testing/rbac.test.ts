import { ApiException, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { eventually, type ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { rejectionOf } from './helpers.js';

const statusOf = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

describe('testing: non-admin identities for RBAC tests', () => {
  let plane: ControlPlane;

  before(async () => {
    plane = await sharedControlPlane();
  });

  it('lets a user with a narrow Role read configmaps in its namespace and nothing else', async () => {
    const [allowed, other] = await Promise.all([testNamespace('rbac'), testNamespace('rbac-other')]);
    const admin = plane.kubeConfig.makeApiClient(CoreV1Api);
    const rbac = plane.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await Promise.all([allowed, other].map((namespace) =>
      admin.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { k: 'v' } } })));
    await rbac.createNamespacedRole({
      namespace: allowed,
      body: { metadata: { name: 'configmap-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: allowed,
      body: {
        metadata: { name: 'readers' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'maestro:readers' }],
      },
    });

    const alice = (await plane.userKubeConfig('alice', ['maestro:readers'])).makeApiClient(CoreV1Api);
    // RBAC answers from an informer cache; the binding is visible within moments.
    const cm = await eventually(() => alice.readNamespacedConfigMap({ namespace: allowed, name: 'settings' }), { message: 'alice to be allowed' });
    expect(cm.data).to.deep.equal({ k: 'v' });

    expect(statusOf(await rejectionOf(alice.readNamespacedConfigMap({ namespace: other, name: 'settings' })))).to.equal(403);
    expect(statusOf(await rejectionOf(alice.listNamespacedConfigMap({ namespace: allowed })))).to.equal(403);
    expect(statusOf(await rejectionOf(alice.deleteNamespacedConfigMap({ namespace: allowed, name: 'settings' })))).to.equal(403);

    // The identity is the certificate's: same groups, other name, still allowed; no groups, denied.
    const bob = (await plane.userKubeConfig('bob', ['maestro:readers'])).makeApiClient(CoreV1Api);
    await bob.readNamespacedConfigMap({ namespace: allowed, name: 'settings' });
    const carol = (await plane.userKubeConfig('carol')).makeApiClient(CoreV1Api);
    expect(statusOf(await rejectionOf(carol.readNamespacedConfigMap({ namespace: allowed, name: 'settings' })))).to.equal(403);
  });

  it('writes a kubeconfig file for a user that kubectl can use', async () => {
    const kc = await plane.userKubeConfig('dave', ['maestro:nobody']);
    const path = await plane.writeKubeconfig(kc);
    expect(path.startsWith(plane.dir)).to.equal(true);
    const { KubeConfig } = await import('@kubernetes/client-node');
    const loaded = new KubeConfig();
    loaded.loadFromFile(path);
    expect(loaded.getCurrentUser()?.name).to.equal('dave');
    expect(loaded.getCurrentCluster()?.server).to.equal(plane.server);
  });
});
