import 'reflect-metadata';
import { expect } from 'chai';
import {
  V1ConfigMap, V1Deployment, V1Namespace, V1Node, V1Secret, loadAllYaml, type V1ObjectMeta, type V1PolicyRule,
} from '@kubernetes/client-node';
import { Owns, Parent, Reconciles, Resource, Uses, decoratorsFor } from '../../decorators/index.js';
import type { Reconciler, Result } from '../../lib/index.js';
import { Registry, buildSpecs } from '../../lib/runtime/index.js';
import {
  RBACGenerationError, RUNTIME_VERBS, generateRBAC, policyRules, rbacYAML, requiredPermissions, type RBACObject, type RBACOptions,
} from '../../lib/generate/index.js';
import { gizmoComponents } from '../support/generate-gizmo.js';
import { widgetReconcilers } from '../support/widget-operator.js';
import { catchError } from '../support/errors.js';

const serviceAccount = { name: 'widget-operator', namespace: 'operators' };
/** What `apply` needs on an owned kind (server-side apply, creating too), and the cache's list and watch. */
const APPLIED = ['create', 'list', 'patch', 'watch'];

/**
 * The Widget operator's rules, each verb one the runtime calls: owned kinds applied and
 * watched; Events created and counted; the parent watched, patched for its finalizer, read
 * again after a status conflict; its status patched; `update` on its finalizers for
 * blockOwnerDeletion (an admission check).
 */
const widgetRules: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps', 'services'], verbs: APPLIED },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['it.maestro.dev'], resources: ['widgets'], verbs: ['get', 'list', 'patch', 'watch'] },
  { apiGroups: ['it.maestro.dev'], resources: ['widgets/finalizers'], verbs: ['update'] },
  { apiGroups: ['it.maestro.dev'], resources: ['widgets/status'], verbs: ['patch'] },
];
const METRICS_OBJECTS = ['ClusterRole widget-operator-metrics-auth', 'ClusterRoleBinding widget-operator-metrics-auth', 'ClusterRole widget-operator-metrics-reader'];

const byKind = (objects: RBACObject[], kind: string) => objects.filter((o) => o.kind === kind);
const rulesOf = (obj: RBACObject | undefined) => (obj as { rules?: V1PolicyRule[] } | undefined)?.rules;
const summary = (objects: RBACObject[]) => objects.map((o) => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`);

// Components for merging tests: two parents, overlapping declarations, subresources.
@Resource({ group: 'rbac.generate.maestro.dev', version: 'v1', kind: 'Shop' })
class Shop { apiVersion?: string; kind?: string; metadata?: V1ObjectMeta; }
@Resource({ group: 'rbac.generate.maestro.dev', version: 'v1', kind: 'Region', namespaced: false })
class Region { apiVersion?: string; kind?: string; metadata?: V1ObjectMeta; }

@Parent(Shop) @Reconciles(10) @Owns(V1ConfigMap, { verbs: ['get', 'list', 'watch'] }) @Uses(V1Secret, { verbs: ['get'] })
class ShopConfig implements Reconciler<Shop> { async reconcile(): Promise<Result> { return {}; } }
@Parent(Shop) @Reconciles(20) @Uses(V1ConfigMap, { verbs: ['delete', 'get'] }) @Uses(V1Secret, { verbs: ['get', 'list'] })
@Uses(V1Deployment, { verbs: ['get', 'patch'], subresources: ['scale'] })
class ShopScale implements Reconciler<Shop> { async reconcile(): Promise<Result> { return {}; } }
@Parent(Region) @Reconciles(10) @Uses(V1Node, { verbs: ['*', 'get'] }) @Uses(V1Namespace, { verbs: ['get'] })
class RegionNodes implements Reconciler<Region> { async reconcile(): Promise<Result> { return {}; } }

describe('generate: RBAC from what the decorators declare', () => {
  describe('for the Widget operator', () => {
    it('grants a namespaced operator a Role per namespace: the parent, its status and finalizers, owned kinds and Events', () => {
      const objects = generateRBAC(widgetReconcilers, { name: 'widget-operator', serviceAccount, namespaces: ['shop', 'blog'] });
      expect(summary(objects)).to.deep.equal([
        'ServiceAccount operators/widget-operator',
        'Role blog/widget-operator', 'RoleBinding blog/widget-operator',
        'Role shop/widget-operator', 'RoleBinding shop/widget-operator',
        ...METRICS_OBJECTS,
      ]);
      for (const role of byKind(objects, 'Role')) expect(rulesOf(role)).to.deep.equal(widgetRules);
      // Nothing of the operator's own kinds cluster-wide: only the metrics reviews, which are cluster-scoped.
      expect(byKind(objects, 'ClusterRole').map((o) => o.metadata?.name)).to.deep.equal(['widget-operator-metrics-auth', 'widget-operator-metrics-reader']);
    });

    it('binds the roles to the ServiceAccount, which is part of the output', () => {
      const objects = generateRBAC(widgetReconcilers, { name: 'widget-operator', serviceAccount, namespaces: ['shop'] });
      expect(objects[0]).to.deep.equal({
        apiVersion: 'v1', kind: 'ServiceAccount',
        metadata: { name: 'widget-operator', namespace: 'operators', labels: { 'app.kubernetes.io/name': 'widget-operator' } },
      });
      const binding = byKind(objects, 'RoleBinding')[0] as { roleRef: unknown; subjects: unknown };
      expect(binding.roleRef).to.deep.equal({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'widget-operator' });
      expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'widget-operator', namespace: 'operators' }]);
    });

    it('grants a cluster-wide operator the same rules in a ClusterRole', () => {
      const objects = generateRBAC(widgetReconcilers, { name: 'widget-operator', serviceAccount });
      expect(summary(objects)).to.deep.equal(['ServiceAccount operators/widget-operator', 'ClusterRole widget-operator', 'ClusterRoleBinding widget-operator', ...METRICS_OBJECTS]);
      expect(rulesOf(objects[1])).to.deep.equal(widgetRules);
      expect((objects[2] as { roleRef: unknown }).roleRef).to.deep.equal({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'widget-operator' });
    });

    it('adds a leader-election Role: create Leases, get and update its own Lease by name', () => {
      const rules: V1PolicyRule[] = [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['widget-operator'], verbs: ['get', 'update'] },
      ];
      const inOwnNamespace = generateRBAC(widgetReconcilers, { name: 'widget-operator', serviceAccount, leaderElection: true });
      const leader = inOwnNamespace.find((o) => o.metadata?.name === 'widget-operator-leader-election' && o.kind === 'Role');
      expect(leader?.metadata?.namespace).to.equal('operators');
      expect(rulesOf(leader)).to.deep.equal(rules);
      expect(inOwnNamespace.some((o) => o.kind === 'RoleBinding' && o.metadata?.name === 'widget-operator-leader-election')).to.equal(true);

      const elsewhere = generateRBAC(widgetReconcilers, { name: 'widget-operator', serviceAccount, leaderElection: { namespace: 'locks', leaseName: 'widgets-lock' } });
      const role = elsewhere.find((o) => o.kind === 'Role')!;
      expect(role.metadata?.namespace).to.equal('locks');
      expect(rulesOf(role)![1]!.resourceNames).to.deep.equal(['widgets-lock']);
      // Without leader election there is no Lease permission at all.
      const none = generateRBAC(widgetReconcilers, { name: 'widget-operator', serviceAccount });
      expect(JSON.stringify(none)).to.not.contain('leases');
    });

    it('grants what secure metrics serving needs, and a metrics-reader ClusterRole for scrapers (unless metricsAuth: false)', () => {
      const objects = generateRBAC(widgetReconcilers, { name: 'widget-operator', serviceAccount, namespaces: ['shop'] });
      expect(rulesOf(objects.find((o) => o.metadata?.name === 'widget-operator-metrics-auth' && o.kind === 'ClusterRole'))).to.deep.equal([
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
      ]);
      const binding = objects.find((o) => o.metadata?.name === 'widget-operator-metrics-auth' && o.kind === 'ClusterRoleBinding') as { roleRef: unknown; subjects: unknown };
      expect(binding.roleRef).to.deep.equal({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'widget-operator-metrics-auth' });
      expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'widget-operator', namespace: 'operators' }]);
      expect(rulesOf(objects.find((o) => o.metadata?.name === 'widget-operator-metrics-reader'))).to.deep.equal([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
      expect(objects.some((o) => o.kind === 'ClusterRoleBinding' && o.metadata?.name === 'widget-operator-metrics-reader'), 'the reader is for scrapers to be bound to').to.equal(false);
      const plain = generateRBAC(widgetReconcilers, { name: 'widget-operator', serviceAccount, namespaces: ['shop'], metricsAuth: false });
      expect(summary(plain)).to.deep.equal(['ServiceAccount operators/widget-operator', 'Role shop/widget-operator', 'RoleBinding shop/widget-operator']);
    });

    it('grants only the verbs the runtime calls: no update or delete on children, no get where reads come from the cache', () => {
      const rules = policyRules(requiredPermissions(widgetReconcilers));
      const all = rules.flatMap((r) => r.resources!.flatMap((res) => r.verbs.map((v) => `${v} ${res}`)));
      expect(all.filter((g) => /^(update|delete) (configmaps|services|widgets)$/.test(g))).to.deep.equal([]);
      expect(all.filter((g) => /^get (configmaps|services|widgets\/status)$/.test(g))).to.deep.equal([]);
      // The owned kinds' verbs are exactly what apply needs, plus the cache's.
      expect([...RUNTIME_VERBS.apply, ...RUNTIME_VERBS.watch].sort()).to.deep.equal(APPLIED);
    });

    it('grants the parent patch only with a finalizer, get only with the default status writer or a finalizer', () => {
      const registry = new Registry();
      const d = decoratorsFor(registry);
      @d.Resource({ group: 'rbac.generate.maestro.dev', version: 'v1', kind: 'Plain' })
      class Plain { apiVersion?: string; kind?: string; metadata?: V1ObjectMeta; }
      @d.Parent(Plain) @d.Reconciles(10)
      class PlainStep implements Reconciler<Plain> { async reconcile(): Promise<Result> { return {}; } }
      @d.Parent(Plain) @d.StatusConditions()
      class PlainStatus { async handleStatusConditions(): Promise<void> {} }
      const verbsOf = (components: unknown[]) => requiredPermissions(components as never, registry).map((p) => `${p.resource}: ${p.verbs.join(',')}`);
      // No finalizer, no children: watched, status written, re-read after a conflict.
      expect(verbsOf([PlainStep])).to.deep.equal(['events: create,patch', 'plains: get,list,watch', 'plains/status: patch']);
      // A status handler of one's own: no re-read by the runtime (declare what it reads with @Uses).
      expect(verbsOf([PlainStep, PlainStatus])).to.deep.equal(['events: create,patch', 'plains: list,watch', 'plains/status: patch']);
      // A finalizer: patched in and out, and read again (a removal whose list moved, a parent
      // deleted with the finalizer on it), whoever writes the status.
      @d.Parent(Plain) @d.Finalizer('rbac.generate.maestro.dev/cleanup')
      class PlainCleanup { async cleanup(): Promise<Result> { return {}; } }
      expect(verbsOf([PlainStep, PlainStatus, PlainCleanup])).to.deep.equal(['events: create,patch', 'plains: get,list,patch,watch', 'plains/status: patch']);
    });

    it('derives the same RBAC from the operator\u2019s specs as from the component classes', () => {
      const spec = buildSpecs({ components: widgetReconcilers });
      const options: RBACOptions = { name: 'widget-operator', serviceAccount, namespaces: ['shop'], leaderElection: true };
      expect(generateRBAC(spec, options)).to.deep.equal(generateRBAC(widgetReconcilers, options));
      expect(generateRBAC(spec.parents, options)).to.deep.equal(generateRBAC(widgetReconcilers, options));
    });
  });

  describe('merging', () => {
    it('merges verbs by API group and resource, grants @Uses subresources, and groups resources with equal verbs', () => {
      expect(requiredPermissions([ShopConfig, ShopScale]).map((p) => `${p.group}/${p.resource}: ${p.verbs.join(',')}`)).to.deep.equal([
        '/configmaps: delete,get,list,watch',
        '/events: create,patch',
        '/secrets: get,list',
        'apps/deployments: get,patch',
        'apps/deployments/scale: get,patch',
        'rbac.generate.maestro.dev/shops: get,list,watch',
        'rbac.generate.maestro.dev/shops/finalizers: update',
        'rbac.generate.maestro.dev/shops/status: patch',
      ]);
      expect(policyRules(requiredPermissions([ShopConfig, ShopScale]))).to.deep.equal([
        { apiGroups: [''], resources: ['configmaps'], verbs: ['delete', 'get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] },
        { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['get', 'patch'] },
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['shops'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['shops/finalizers'], verbs: ['update'] },
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['shops/status'], verbs: ['patch'] },
      ]);
    });

    it('gives the same output whatever the order of the input, without duplicates', () => {
      const options: RBACOptions = { name: 'shop-operator', serviceAccount, namespaces: ['b', 'a', 'b'] };
      const forward = generateRBAC([ShopConfig, ShopScale, RegionNodes], options);
      const backward = generateRBAC([RegionNodes, ShopScale, ShopConfig, ShopScale], options);
      expect(backward).to.deep.equal(forward);
      expect(summary(forward).filter((s) => s.startsWith('Role '))).to.deep.equal(['Role a/shop-operator', 'Role b/shop-operator', 'Role default/shop-operator']);
    });

    it('collapses verbs to * when a declaration grants everything', () => {
      const nodes = requiredPermissions([RegionNodes]).find((p) => p.resource === 'nodes');
      expect(nodes?.verbs).to.deep.equal(['*']);
    });

    it('puts cluster-scoped kinds in a ClusterRole even for a namespaced operator, and Events of cluster-scoped parents in default', () => {
      const objects = generateRBAC([ShopConfig, RegionNodes], { name: 'shop-operator', serviceAccount, namespaces: ['shop'] });
      expect(rulesOf(byKind(objects, 'ClusterRole')[0])).to.deep.equal([
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['*'] },
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['regions'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['regions/status'], verbs: ['patch'] },
      ]);
      const shopRole = objects.find((o) => o.kind === 'Role' && o.metadata?.namespace === 'shop');
      expect(JSON.stringify(rulesOf(shopRole))).to.not.match(/nodes|namespaces|regions/);
      const defaultRole = objects.find((o) => o.kind === 'Role' && o.metadata?.namespace === 'default');
      expect(rulesOf(defaultRole)).to.deep.equal([{ apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] }]);
    });

    it('grants narrowed @Owns verbs only, and @Uses kinds as declared', () => {
      const rules = policyRules(requiredPermissions(gizmoComponents));
      expect(rules).to.deep.include({ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list', 'patch', 'watch'] });
      expect(rules).to.deep.include({ apiGroups: [''], resources: ['namespaces'], verbs: ['get'] });
    });
  });

  it('writes multi-document YAML that loads back to the same objects', () => {
    const options: RBACOptions = { name: 'widget-operator', serviceAccount, namespaces: ['shop'], leaderElection: true };
    const yaml = rbacYAML(widgetReconcilers, options);
    const docs = loadAllYaml(yaml);
    expect(docs).to.have.length(generateRBAC(widgetReconcilers, options).length);
    expect(JSON.parse(JSON.stringify(docs))).to.deep.equal(JSON.parse(JSON.stringify(generateRBAC(widgetReconcilers, options))));
    expect(yaml).to.contain("apiGroups:\n      - ''");
  });

  describe('refuses input it cannot turn into RBAC', () => {
    it('refuses classes that are not components', () => {
      class Stray {}
      const err = catchError(() => generateRBAC([Stray], { name: 'x', serviceAccount }));
      expect(err).to.be.instanceOf(RBACGenerationError);
      expect((err as RBACGenerationError).code).to.equal('RBACGeneration');
      expect((err as Error).message).to.contain('Stray is not a Maestro component');
    });

    it('refuses names Kubernetes would reject, and an empty namespace list', () => {
      const err = catchError(() => generateRBAC(widgetReconcilers, { name: 'Widget Operator', serviceAccount: { name: 'sa', namespace: 'Ops' }, namespaces: [] }));
      expect(err).to.be.instanceOf(RBACGenerationError);
      expect((err as Error).message).to.contain("name 'Widget Operator'").and.contain("serviceAccount.namespace 'Ops'").and.contain('namespaces is empty');
    });
  });
});
