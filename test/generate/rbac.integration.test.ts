// Operators running with exactly the generated RBAC, as a ServiceAccount with a token from
// the TokenRequest API, against a real kube-apiserver that authorizes with RBAC.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { container } from 'tsyringe';
import {
  AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Role,
} from '@kubernetes/client-node';
import { generateCRD, generateRBAC, rbacYAML, type RBACObject } from '../../lib/generate/index.js';
import { startControlPlane, type ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { applyYAML } from '../support/generate-kubectl.js';
import { gizmo, gizmoComponents, Gizmo } from '../support/generate-gizmo.js';
import { Widgets, startOperator, stopOperators } from '../support/operators.js';
import { createAll, deleteAll, rejectionOf, serviceAccountKubeConfig, statusOf } from '../support/service-account.js';
import { eventually } from '../support/wait.js';
import { WidgetLedger, widget, widgetCRD, widgetReconcilers } from '../support/widget-operator.js';

type Call = [string, () => Promise<unknown>];

/** Asserts that each call is forbidden (403), naming the ones that were not. */
async function expectForbidden(calls: Call[]): Promise<void> {
  const outcomes = await Promise.all(calls.map(async ([what, call]) => {
    const status = await call().then(() => 200, (err: unknown) => statusOf(err) ?? String(err));
    return `${what}: ${status}`;
  }));
  expect(outcomes).to.deep.equal(calls.map(([what]) => `${what}: 403`));
}

describe('generated RBAC on a real API server', function () {
  this.timeout(120_000);
  let plane: ControlPlane;

  before(async () => {
    plane = await sharedControlPlane();
  });
  afterEach(() => stopOperators());

  describe('a namespaced Widget operator with leader election', () => {
    const name = 'widget-operator';
    let ns: string;
    let other: string;
    let kc: KubeConfig;

    before(async () => {
      await plane.installCRDs([widgetCRD()]);
      [ns, other] = await Promise.all([plane.createNamespace('gen-rbac'), plane.createNamespace('gen-rbac-other')]);
      // As users install it: the YAML, with kubectl when the control plane has it.
      await applyYAML(plane, rbacYAML(widgetReconcilers, { name, serviceAccount: { name, namespace: ns }, namespaces: [ns], leaderElection: true }));
      kc = await serviceAccountKubeConfig(plane.kubeConfig, { name, namespace: ns });
      // RBAC is read from an informer cache: wait until the grants are visible.
      const core = kc.makeApiClient(CoreV1Api);
      await eventually(() => core.listNamespacedConfigMap({ namespace: ns }), { message: 'the generated Role to take effect' });
    });

    it('converges a Widget: children, finalizer, status, Events and its Lease, with exactly that RBAC', async () => {
      const ledger = container.resolve(WidgetLedger);
      const operator = await startOperator(kc, { name, reconcilers: widgetReconcilers, namespaces: [ns], leaderElection: { namespace: ns }, cacheSyncTimeoutMs: 30_000 });
      expect(operator.isLeader).to.equal(true);
      const widgets = new Widgets(plane.kubeConfig, ns);
      await widgets.create(widget(ns, 'least', { message: 'privilege' }));
      const ready = await widgets.waitReady('least');
      expect(ready.metadata?.finalizers).to.deep.equal(['it.maestro.dev/cleanup']);

      const core = plane.kubeConfig.makeApiClient(CoreV1Api);
      const cm = await core.readNamespacedConfigMap({ name: 'least', namespace: ns });
      expect(cm.data).to.deep.equal({ message: 'privilege' });
      expect(cm.metadata?.ownerReferences?.[0]).to.include({ kind: 'Widget', name: 'least', controller: true, blockOwnerDeletion: true });
      await core.readNamespacedService({ name: 'least', namespace: ns });
      // A failing widget makes the operator record Events, and count repeats (create and patch).
      await widgets.create(widget(ns, 'broken', { message: 'fail' }));
      const repeated = await eventually(async () => {
        const list = await core.listNamespacedEvent({ namespace: ns });
        return list.items.find((e) => e.involvedObject.name === 'broken' && e.source?.component === name && e.reason === 'ReconcileError' && (e.count ?? 0) > 1);
      }, { message: 'a repeated Event recorded by the operator' });
      expect(repeated.type).to.equal('Warning');
      const lease = await plane.kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace: ns });
      expect(lease.spec?.holderIdentity).to.equal(operator.identity);

      // Deleting runs the cleanup and removes the finalizer (a patch of the parent).
      await widgets.delete('least');
      await eventually(async () => widgets.get('least').then(() => false, (err: unknown) => statusOf(err) === 404), { message: 'the widget to be deleted' });
      expect(ledger.cleanups.get(`${ns}/least`)).to.be.at.least(1);
    });

    it('is denied everything else (403)', async () => {
      const core = kc.makeApiClient(CoreV1Api);
      const apps = kc.makeApiClient(AppsV1Api);
      const custom = kc.makeApiClient(CustomObjectsApi);
      const coordination = kc.makeApiClient(CoordinationV1Api);
      const widgets = { group: 'it.maestro.dev', version: 'v1', plural: 'widgets' };
      // Allowed, so the denials below are RBAC's and not a broken identity.
      await custom.listNamespacedCustomObject({ ...widgets, namespace: ns });
      await expectForbidden([
        ['list Secrets in its namespace', () => core.listNamespacedSecret({ namespace: ns })],
        ['create a Deployment in its namespace', () => apps.createNamespacedDeployment({
          namespace: ns,
          body: { metadata: { name: 'nope' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } },
        })],
        ['create a Widget (it only reconciles them)', () => custom.createNamespacedCustomObject({ ...widgets, namespace: ns, body: widget(ns, 'forged') })],
        ['delete a Widget', () => custom.deleteNamespacedCustomObject({ ...widgets, namespace: ns, name: 'least' })],
        ['list ConfigMaps in another namespace', () => core.listNamespacedConfigMap({ namespace: other })],
        ['list Widgets in another namespace', () => custom.listNamespacedCustomObject({ ...widgets, namespace: other })],
        ['list ConfigMaps in every namespace', () => core.listConfigMapForAllNamespaces()],
        ['create Events in another namespace', () => core.createNamespacedEvent({
          namespace: other, body: { metadata: { name: 'nope' }, involvedObject: { name: 'x', namespace: other } },
        })],
        ['read another Lease in its namespace', () => coordination.readNamespacedLease({ namespace: ns, name: 'someone-else' })],
        ['create a Lease in another namespace', () => coordination.createNamespacedLease({ namespace: other, body: { metadata: { name } } })],
      ]);
    });
  });

  describe('a cluster-wide Gizmo operator with its generated CRD', () => {
    const name = `gizmo-operator-${randomBytes(3).toString('hex')}`;
    let rbac: RBACObject[] = [];
    let ns: string;
    let kc: KubeConfig;

    before(async () => {
      await plane.installCRDs([generateCRD(Gizmo)]);
      const [home, target] = await Promise.all([plane.createNamespace('gizmo-operator'), plane.createNamespace('gizmo-target')]);
      ns = target;
      rbac = generateRBAC(gizmoComponents, { name, serviceAccount: { name: 'gizmo-operator', namespace: home } });
      await createAll(plane.kubeConfig, rbac);
      kc = await serviceAccountKubeConfig(plane.kubeConfig, { name: 'gizmo-operator', namespace: home });
      const core = kc.makeApiClient(CoreV1Api);
      await eventually(() => core.listConfigMapForAllNamespaces(), { message: 'the generated ClusterRole to take effect' });
    });
    // Cluster-wide grants outlive namespaces: remove them.
    after(() => deleteAll(plane.kubeConfig, rbac.filter((o) => o.kind?.startsWith('Cluster'))));

    it('converges a Gizmo, reading its namespace through @Uses', async () => {
      await startOperator(kc, { name, reconcilers: gizmoComponents, cacheSyncTimeoutMs: 30_000 });
      const custom = plane.kubeConfig.makeApiClient(CustomObjectsApi);
      await custom.createNamespacedCustomObject({ group: 'generate.maestro.dev', version: 'v1alpha1', plural: 'gizmos', namespace: ns, body: gizmo(ns, 'cluster-wide') });
      const ready = await eventually(async () => {
        const g = (await custom.getNamespacedCustomObject({ group: 'generate.maestro.dev', version: 'v1alpha1', plural: 'gizmos', namespace: ns, name: 'cluster-wide' })) as Gizmo;
        const condition = g.status?.conditions?.find((c) => c.type === 'Ready');
        return condition?.status === 'True' ? condition : undefined;
      }, { message: 'gizmo Ready' });
      expect(ready.reason).to.equal('Reconciled');
      const core = plane.kubeConfig.makeApiClient(CoreV1Api);
      const [cm, namespace] = await Promise.all([core.readNamespacedConfigMap({ name: 'cluster-wide-gizmo', namespace: ns }), core.readNamespace({ name: ns })]);
      expect(cm.data).to.deep.equal({ image: 'registry.example.com/team/app:1.2.3', replicas: '2', namespaceUID: namespace.metadata!.uid });
    });

    it('is denied the verbs it did not declare (403)', async () => {
      const core = kc.makeApiClient(CoreV1Api);
      await core.readNamespace({ name: ns });
      await expectForbidden([
        ['list Namespaces (it may only get them)', () => core.listNamespace()],
        ['delete a ConfigMap (@Owns narrowed the verbs)', () => core.deleteNamespacedConfigMap({ name: 'cluster-wide-gizmo', namespace: ns })],
        ['replace a ConfigMap', () => core.replaceNamespacedConfigMap({ name: 'cluster-wide-gizmo', namespace: ns, body: { metadata: { name: 'cluster-wide-gizmo' } } })],
        ['list Secrets in any namespace', () => core.listSecretForAllNamespaces()],
        ['create a Lease (no leader election)', () => kc.makeApiClient(CoordinationV1Api).createNamespacedLease({ namespace: ns, body: { metadata: { name } } })],
      ]);
      expect(await rejectionOf(core.listNamespacedSecret({ namespace: ns }))).to.satisfy((err: unknown) => statusOf(err) === 403);
    });
  });

  describe('where OwnerReferencesPermissionEnforcement is on (as on OpenShift)', () => {
    let strict: ControlPlane;

    before(async () => {
      strict = await startControlPlane({ assets: plane.assets, apiServerFlags: { 'enable-admission-plugins': 'OwnerReferencesPermissionEnforcement' } });
      await strict.installCRDs([widgetCRD()]);
    });
    after(() => strict?.stop());

    it('needs the generated update on widgets/finalizers to set blockOwnerDeletion on children, and converges with it', async () => {
      const ns = await strict.createNamespace('owner-refs');
      const account = (name: string) => ({ name, serviceAccount: { name, namespace: ns }, namespaces: [ns] });
      const withoutFinalizers = generateRBAC(widgetReconcilers, account('no-finalizers')).map((o) => (o.kind === 'Role'
        ? { ...o, rules: (o as V1Role).rules!.filter((r) => !r.resources?.includes('widgets/finalizers')) }
        : o));
      await createAll(strict.kubeConfig, [...generateRBAC(widgetReconcilers, account('generated')), ...withoutFinalizers]);
      const [generated, crippled] = await Promise.all([
        serviceAccountKubeConfig(strict.kubeConfig, { name: 'generated', namespace: ns }),
        serviceAccountKubeConfig(strict.kubeConfig, { name: 'no-finalizers', namespace: ns }),
      ]);
      for (const kc of [generated, crippled]) {
        await eventually(() => kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: ns }), { message: 'the Roles to take effect' });
      }
      const widgets = new Widgets(strict.kubeConfig, ns);

      await startOperator(crippled, { name: 'no-finalizers', reconcilers: widgetReconcilers, namespaces: [ns], cacheSyncTimeoutMs: 30_000 });
      await widgets.create(widget(ns, 'guarded', { message: 'owned' }));
      const refused = await eventually(async () => {
        const ready = widgets.ready(await widgets.get('guarded'));
        return ready?.status === 'False' ? ready : undefined;
      }, { message: 'Ready=False without the finalizers grant' });
      expect(refused.message).to.contain('blockOwnerDeletion');
      await stopOperators();

      await startOperator(generated, { name: 'generated', reconcilers: widgetReconcilers, namespaces: [ns], cacheSyncTimeoutMs: 30_000 });
      await widgets.waitReady('guarded');
      const cm = await strict.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'guarded', namespace: ns });
      expect(cm.metadata?.ownerReferences?.[0]?.blockOwnerDeletion).to.equal(true);
    });
  });
});
