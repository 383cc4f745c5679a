// What watch declarations mean for generated RBAC (list and watch, never get), and the fake
// client's index and metadata reads.
import 'reflect-metadata';
import { expect } from 'chai';
import { V1ConfigMap, V1Namespace, V1Secret, type V1ObjectMeta } from '@kubernetes/client-node';
import { decoratorsFor } from '../../decorators/index.js';
import { isNotFound, type Reconciler, type Result } from '../../lib/index.js';
import { generateRBAC, requiredPermissions, watchPermissions } from '../../lib/generate/index.js';
import { Registry, buildSpecs } from '../../lib/runtime/index.js';
import { FakeClient } from '../../lib/testing/index.js';
import { IndexNotFoundError, byIndex, byLabel } from '../../lib/watch/index.js';

const registry = new Registry();
const { Resource, Parent, Reconciles, Watches, Index, Owns, Uses } = decoratorsFor(registry);

@Resource({ group: 'unit.maestro.dev', version: 'v1', kind: 'Tenant' })
class Tenant { apiVersion?: string; kind?: string; metadata?: V1ObjectMeta; spec!: { secretName: string; tier?: string }; }

@Parent(Tenant) @Reconciles(10)
@Index(Tenant, 'spec.secretName', (t) => [t.spec.secretName])
@Index(V1Namespace, 'tier', (ns) => ns.metadata?.labels?.['tier'])
@Watches(V1Secret, byIndex('spec.secretName'), { metadataOnly: true })
@Watches(V1Namespace, byLabel('unit.maestro.dev/tenant'))
@Owns(V1ConfigMap, { verbs: ['create', 'patch'] })
@Uses(V1Secret, { verbs: ['get'] })
class TenantSecrets implements Reconciler<Tenant> { async reconcile(): Promise<Result> { return {}; } }

const serviceAccount = { name: 'tenant-operator', namespace: 'operators' };

describe('RBAC for watched and indexed kinds', () => {
  it('grants list and watch on each kind the parent caches; get only where @Uses declares a read-through', () => {
    const parent = buildSpecs({ registry, components: [TenantSecrets] }).parents[0]!;
    expect(watchPermissions(parent).map((p) => [p.resource.plural, [...p.verbs]])).to.deep.equal([
      // Decorators apply bottom-up: the lower @Watches is recorded first.
      ['configmaps', ['list', 'watch']], ['namespaces', ['list', 'watch']], ['secrets', ['list', 'watch']],
    ]);
    const permissions = requiredPermissions([TenantSecrets], registry);
    const verbs = (resource: string) => permissions.find((p) => p.resource === resource)?.verbs;
    expect(verbs('secrets')).to.deep.equal(['get', 'list', 'watch']);
    expect(verbs('namespaces'), 'cached, and read from the cache only').to.deep.equal(['list', 'watch']);
    expect(verbs('configmaps'), 'narrowed @Owns verbs still let the cache list and watch').to.deep.equal(['create', 'list', 'patch', 'watch']);
  });

  it('puts namespaced watched kinds in the per-namespace Roles, cluster-scoped ones in the ClusterRole', () => {
    const objects = generateRBAC([TenantSecrets], { name: 'tenant-operator', serviceAccount, namespaces: ['a'], registry });
    const role = objects.find((o) => o.kind === 'Role') as { rules: Array<{ resources: string[]; verbs: string[] }> };
    const cluster = objects.find((o) => o.kind === 'ClusterRole') as { rules: Array<{ resources: string[]; verbs: string[] }> };
    expect(role.rules.find((r) => r.resources.includes('secrets'))?.verbs).to.deep.equal(['get', 'list', 'watch']);
    expect(cluster.rules).to.deep.equal([{ apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] }]);
  });
});

describe('FakeClient: index and metadata reads', () => {
  const tenant = (name: string, secretName: string, namespace = 'a'): Tenant =>
    ({ apiVersion: 'unit.maestro.dev/v1', kind: 'Tenant', metadata: { name, namespace, labels: { app: name } }, spec: { secretName } });

  it('lists by the registry\u2019s @Index declarations, with namespace and labels; an unknown index is a typed error', async () => {
    const client = new FakeClient({ registry, objects: [tenant('t1', 's'), tenant('t2', 's'), tenant('t3', 'other'), tenant('t4', 's', 'b')] });
    const names = async (options: Parameters<FakeClient['list']>[1]) => (await client.list(Tenant, options)).map((t) => t.metadata?.name).sort();
    expect(await names({ index: { 'spec.secretName': 's' } })).to.deep.equal(['t1', 't2', 't4']);
    expect(await names({ namespace: 'a', index: { 'spec.secretName': 's' } })).to.deep.equal(['t1', 't2']);
    expect(await names({ labelSelector: 'app=t2', index: { 'spec.secretName': 's' } })).to.deep.equal(['t2']);
    const err = await client.list(Tenant, { index: { 'spec.nope': 's' } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(IndexNotFoundError);
    expect((err as Error).message).to.contain("no index 'spec.nope'").and.contain('@Index(Tenant');
    const own = new FakeClient({ registry, objects: [tenant('t1', 's')], indexes: [{ type: Tenant, field: 'name-length', extract: (t: Tenant) => String(t.metadata!.name!.length) }] });
    expect((await own.list(Tenant, { index: { 'name-length': '2' } })).length).to.equal(1);
  });

  it('reads metadata only: apiVersion and kind of the object, its metadata, no content; 404 when missing', async () => {
    const client = new FakeClient({ registry, objects: [tenant('t1', 's')] });
    const meta = await client.getMetadata(Tenant, { namespace: 'a', name: 't1' });
    expect(Object.keys(meta).sort()).to.deep.equal(['apiVersion', 'kind', 'metadata']);
    expect(meta).to.deep.include({ apiVersion: 'unit.maestro.dev/v1', kind: 'Tenant' });
    expect(meta.metadata.labels).to.deep.equal({ app: 't1' });
    expect((await client.listMetadata(Tenant, { index: { 'spec.secretName': 's' } })).map((m) => m.metadata.name)).to.deep.equal(['t1']);
    expect(isNotFound(await client.getMetadata(Tenant, { namespace: 'a', name: 'gone' }).catch((e: unknown) => e))).to.equal(true);
  });
});
