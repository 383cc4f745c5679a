import 'reflect-metadata';
import { expect } from 'chai';
import {
  V1ConfigMap, V1Deployment, V1Namespace, V1Node, V1Secret, loadAllYaml, type V1ObjectMeta, type V1PolicyRule,
} from '@kubernetes/client-node';
import { Owns, Parent, Reconciles, Resource, Uses } from '../../decorators/index.js';
import type { Reconciler, Result } from '../../lib/index.js';
import { buildSpecs } from '../../lib/runtime/index.js';
import {
  RBACGenerationError, generateRBAC, policyRules, rbacYAML, requiredPermissions, type RBACObject, type RBACOptions,
} from '../../lib/generate/index.js';
import { gizmoComponents } from '../support/generate-gizmo.js';
import { widgetReconcilers } from '../support/widget-operator.js';
import { catchError } from '../support/errors.js';

const serviceAccount = { name: 'widget-operator', namespace: 'operators' };
const ALL = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

/** The Widget operator's rules: its parent with status and finalizers, the kinds it owns, and Events. */
const widgetRules: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps', 'services'], verbs: ALL },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['it.maestro.dev'], resources: ['widgets'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
  { apiGroups: ['it.maestro.dev'], resources: ['widgets/finalizers'], verbs: ['update'] },
  { apiGroups: ['it.maestro.dev'], resources: ['widgets/status'], verbs: ['get', 'patch', 'update'] },
];

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
      ]);
      for (const role of byKind(objects, 'Role')) expect(rulesOf(role)).to.deep.equal(widgetRules);
      expect(byKind(objects, 'ClusterRole')).to.be.empty;
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
      expect(summary(objects)).to.deep.equal(['ServiceAccount operators/widget-operator', 'ClusterRole widget-operator', 'ClusterRoleBinding widget-operator']);
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
        'rbac.generate.maestro.dev/shops: get,list,patch,update,watch',
        'rbac.generate.maestro.dev/shops/finalizers: update',
        'rbac.generate.maestro.dev/shops/status: get,patch,update',
      ]);
      expect(policyRules(requiredPermissions([ShopConfig, ShopScale]))).to.deep.equal([
        { apiGroups: [''], resources: ['configmaps'], verbs: ['delete', 'get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] },
        { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['get', 'patch'] },
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['shops'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['shops/finalizers'], verbs: ['update'] },
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['shops/status'], verbs: ['get', 'patch', 'update'] },
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
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['regions'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['regions/finalizers'], verbs: ['update'] },
        { apiGroups: ['rbac.generate.maestro.dev'], resources: ['regions/status'], verbs: ['get', 'patch', 'update'] },
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
