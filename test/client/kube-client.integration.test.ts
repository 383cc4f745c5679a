import { expect } from 'chai';
import { V1ClusterRole, V1ConfigMap, V1Secret, V1Service, type V1ObjectMeta, type V1OwnerReference } from '@kubernetes/client-node';
import { isAlreadyExists, isConflict, isNotFound } from '../../lib/index.js';
import {
  AlreadyOwnedError, ApiTransport, Cache, InvalidObjectError, KubeClient, Registry, resourceOf,
} from '../../lib/runtime/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { eventually } from '../support/wait.js';

describe('KubeClient on a real API server', function () {
  this.timeout(60_000);
  let plane: ControlPlane;
  let ns: string;
  let requests: string[];
  let cache: Cache;
  let client: KubeClient;
  let uncached: KubeClient;
  /** A client with no memory of earlier applies, as in a restarted operator. */
  let fresh: () => KubeClient;
  const resources = Registry.default.resources;

  before(async () => { plane = await sharedControlPlane(); });
  beforeEach(async () => {
    ns = await plane.createNamespace('client');
    requests = [];
    const transport = ApiTransport.create(plane.kubeConfig, { onRequest: (r) => requests.push(`${r.method} ${r.path}`) });
    cache = new Cache({ transport, namespaces: [ns], fieldManager: 'client-test' });
    cache.informers(resourceOf(V1ConfigMap));
    cache.start();
    await cache.waitForSync();
    client = new KubeClient({ transport, resources, fieldManager: 'client-test', cache });
    fresh = () => new KubeClient({ transport, resources, fieldManager: 'client-test', cache });
    uncached = new KubeClient({ transport, resources, fieldManager: 'client-test' });
  });
  afterEach(() => cache.stop());

  const configMap = (name: string, data: Record<string, string>, extra: Omit<V1ObjectMeta, 'name'> = {}): V1ConfigMap =>
    ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...extra }, data });

  it('returns objects in client-node model shape, from the API and from the cache alike', async () => {
    const created = await client.create(configMap('shape', { a: '1' }));
    expect(created.metadata?.creationTimestamp).to.be.instanceOf(Date);
    const cached = await eventually(async () => client.get(V1ConfigMap, { namespace: ns, name: 'shape' }).catch(() => undefined));
    expect(cached.metadata?.creationTimestamp).to.be.instanceOf(Date);
    expect(cached.metadata?.managedFields, 'the cache drops managedFields').to.equal(undefined);
    expect(cached.kind).to.equal('ConfigMap');
  });

  it('serves reads of watched kinds from the cache, as copies, and others from the API', async () => {
    await client.create(configMap('cached', { a: '1' }, { labels: { app: 'x' } }));
    const first = await eventually(async () => client.get(V1ConfigMap, { namespace: ns, name: 'cached' }).catch(() => undefined));
    requests.length = 0;
    first.data!.a = 'changed by the caller';
    const again = await client.get(V1ConfigMap, { namespace: ns, name: 'cached' });
    expect(again.data).to.deep.equal({ a: '1' });
    expect((await client.list(V1ConfigMap, { namespace: ns, labelSelector: 'app=x' })).map((c) => c.metadata?.name)).to.deep.equal(['cached']);
    expect(await client.list(V1ConfigMap, { namespace: ns, labelSelector: { app: 'y' } })).to.deep.equal([]);
    // Keys every JavaScript object inherits are not labels.
    expect(await client.list(V1ConfigMap, { namespace: ns, labelSelector: 'constructor' })).to.deep.equal([]);
    expect(await client.list(V1ConfigMap, { namespace: ns, labelSelector: 'toString' })).to.deep.equal([]);
    expect(requests, 'no request for cached reads').to.deep.equal([]);
    for (let i = 0; i < 3; i++) await uncached.create<V1Secret>({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `s${i}`, namespace: ns } });
    requests.length = 0;
    const paging = new KubeClient({ transport: ApiTransport.create(plane.kubeConfig, { onRequest: (r) => requests.push(`${r.method} ${r.path}`) }), resources, fieldManager: 'client-test', pageSize: 2 });
    const secrets = await paging.list(V1Secret, { namespace: ns });
    expect(secrets.map((s) => s.metadata?.name).sort()).to.deep.equal(['s0', 's1', 's2']);
    expect(requests, 'two pages').to.deep.equal([`GET /api/v1/namespaces/${ns}/secrets`, `GET /api/v1/namespaces/${ns}/secrets`]);
    const missing = await client.get(V1ConfigMap, { namespace: ns, name: 'nope' }).catch((e: unknown) => e);
    expect(isNotFound(missing)).to.equal(true);
  });

  it('maps API failures to typed errors', async () => {
    const created = await uncached.create(configMap('errors', { a: '1' }));
    expect(isAlreadyExists(await uncached.create(configMap('errors', {})).catch((e: unknown) => e))).to.equal(true);
    await uncached.update({ ...created, data: { a: '2' } });
    expect(isConflict(await uncached.update({ ...created, data: { a: '3' } }).catch((e: unknown) => e)), 'a stale resourceVersion').to.equal(true);
    await uncached.delete(created);
    expect(isNotFound(await uncached.delete(created).catch((e: unknown) => e))).to.equal(true);
    const noNamespace = await uncached.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }).catch((e: unknown) => e);
    expect(noNamespace).to.be.instanceOf(InvalidObjectError);
    expect((noNamespace as Error).message).to.contain('namespaced');
    await uncached.apply(configMap('', {})).then(() => expect.fail('applied without a name'), (e: unknown) => expect(e).to.be.instanceOf(InvalidObjectError));
  });

  it('patches with merge and JSON patches, and writes status without bumping the generation', async () => {
    const created = await uncached.create(configMap('patches', { a: '1' }));
    const merged = await uncached.patch(created, { data: { b: '2' } });
    expect(merged.data).to.deep.equal({ a: '1', b: '2' });
    const json = await uncached.patch(created, [{ op: 'remove', path: '/data/a' }], { type: 'json' });
    expect(json.data).to.deep.equal({ b: '2' });
  });

  it('makes the parent the controller owner of what it applies in its namespace, and only there', async () => {
    const parent = await uncached.create(configMap('parent', {}));
    const child = await client.forParent(parent).apply(configMap('child', { a: '1' }));
    expect(child.metadata?.ownerReferences).to.deep.equal([{
      apiVersion: 'v1', kind: 'ConfigMap', name: 'parent', uid: parent.metadata!.uid!, controller: true, blockOwnerDeletion: true,
    } satisfies V1OwnerReference]);
    const defaulted = await client.forParent(parent).apply<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'defaulted' } });
    expect(defaulted.metadata?.namespace, "the parent's namespace is the default").to.equal(ns);
    const other = await plane.createNamespace('other');
    const elsewhere = await client.forParent(parent).apply<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere', namespace: other } });
    expect(elsewhere.metadata?.ownerReferences ?? []).to.deep.equal([]);
    const role = await client.forParent(parent).apply<V1ClusterRole>({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${ns}-role` }, rules: [] });
    expect(role.metadata?.ownerReferences ?? [], 'cluster-scoped objects cannot have namespaced owners').to.deep.equal([]);
    const unowned = await client.forParent(parent).apply(configMap('unowned', {}), { owned: false });
    expect(unowned.metadata?.ownerReferences ?? []).to.deep.equal([]);
    await uncached.delete(role);
  });

  it('refuses to take over an object another controller owns', async () => {
    const parent = await uncached.create(configMap('parent2', {}));
    const foreign = { apiVersion: 'v1', kind: 'Secret', name: 'x', uid: '00000000-0000-0000-0000-000000000000', controller: true };
    const err = await client.forParent(parent).apply(configMap('taken', {}, { ownerReferences: [foreign] })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AlreadyOwnedError).and.have.property('code', 'AlreadyOwned');
  });

  it('refuses to apply an existing object another parent controls, judging the object as it is (cached or read), and sends no write', async () => {
    const first = await uncached.create(configMap('first', {}));
    const second = await uncached.create(configMap('second', {}));
    const applied = await client.forParent(first).apply(configMap('claimed', { from: 'first' }));
    await eventually(async () => (await client.get(V1ConfigMap, { namespace: ns, name: 'claimed' }).catch(() => undefined))?.metadata?.resourceVersion === applied.metadata?.resourceVersion);
    for (const [how, via] of [['cached', client], ['read from the API', uncached]] as const) {
      requests.length = 0;
      // The body we build carries no owner: only the live object says who controls it.
      const err = await via.forParent(second).apply(configMap('claimed', { from: 'second' })).catch((e: unknown) => e);
      expect(err, how).to.be.instanceOf(AlreadyOwnedError);
      expect((err as AlreadyOwnedError).reason).to.equal('AlreadyOwned');
      expect((err as AlreadyOwnedError).owner).to.deep.equal({ kind: 'ConfigMap', name: 'first', uid: first.metadata!.uid });
      expect((err as Error).message).to.contain('already controlled by ConfigMap first');
      expect(requests.filter((r) => !r.startsWith('GET')), `${how}: no write sent`).to.deep.equal([]);
    }
    const live = await uncached.get(V1ConfigMap, { namespace: ns, name: 'claimed' });
    expect(live.metadata?.resourceVersion).to.equal(applied.metadata?.resourceVersion);
    expect(live.data).to.deep.equal({ from: 'first' });
    // Its controller may apply it, and an apply without an owner (owned: false) is not an ownership claim.
    await client.forParent(first).apply(configMap('claimed', { from: 'first again' }));
    await client.forParent(second).apply(configMap('claimed', {}), { owned: false, fieldManager: 'other' });
  });

  it('skips an apply that would change nothing, and applies again after the object was changed by hand or deleted', async () => {
    const desired = configMap('dedup', { a: '1' });
    const applies = () => requests.filter((r) => r.startsWith('PATCH')).length;
    await client.apply(desired);
    await eventually(() => cache.get(resourceOf(V1ConfigMap), 'dedup', ns));
    await eventually(async () => cache.get<V1ConfigMap>(resourceOf(V1ConfigMap), 'dedup', ns)?.metadata?.resourceVersion
      === (await uncached.readLive(desired)).metadata?.resourceVersion);
    expect(applies()).to.equal(1);
    const skipped = await client.apply(desired);
    expect(applies(), 'identical configuration, unchanged object').to.equal(1);
    expect(skipped.data).to.deep.equal({ a: '1' });

    await client.apply(configMap('dedup', { a: '2' }));
    expect(applies(), 'a changed configuration is applied').to.equal(2);

    const live = await uncached.readLive(desired);
    await uncached.update({ ...live, data: { a: 'by hand' } });
    await eventually(() => cache.get<V1ConfigMap>(resourceOf(V1ConfigMap), 'dedup', ns)?.data?.a === 'by hand');
    const restored = await client.apply(configMap('dedup', { a: '2' }));
    expect(restored.data).to.deep.equal({ a: '2' });
    expect(applies(), 'an edited object is applied again').to.equal(3);

    await uncached.delete(desired);
    await eventually(() => cache.get(resourceOf(V1ConfigMap), 'dedup', ns) === undefined);
    await client.apply(configMap('dedup', { a: '2' }));
    expect(applies(), 'a deleted object is applied again').to.equal(4);
  });

  it('without memory of its applies (a restart), skips what the server records as in place and applies what drifted', async () => {
    cache.informers(resourceOf(V1Service));
    await cache.waitForSync();
    const applies = () => requests.filter((r) => r.startsWith('PATCH')).length;
    const settled = async (obj: V1ConfigMap | V1Service) => eventually(async () => cache.get(resourceOf(obj), obj.metadata!.name!, ns)?.metadata?.resourceVersion
      === (await uncached.readLive(obj)).metadata?.resourceVersion);
    const desired = configMap('restart', { a: '1' }, { labels: { app: 'x' } });
    // A port without protocol: the server defaults the key field of the port's entry.
    const service: V1Service = {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'restart', namespace: ns, labels: { app: 'x' } },
      spec: { selector: { app: 'x' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 9090, protocol: 'TCP' }] },
    };
    await client.apply(desired);
    await client.apply(service);
    await settled(desired);
    await settled(service);
    let sent = applies();

    expect((await fresh().apply(desired)).data).to.deep.equal({ a: '1' });
    await fresh().apply(service);
    expect(applies(), 'converged objects').to.equal(sent);

    // Another writer changes a field this manager owns: it is applied, and restored.
    const live = await uncached.readLive(desired);
    await uncached.update({ ...live, data: { a: 'by hand' } }, { fieldManager: 'someone-else' });
    await settled(desired);
    expect((await fresh().apply(desired)).data).to.deep.equal({ a: '1' });
    expect(applies(), 'a field changed by another writer').to.equal(sent + 1);
    await settled(desired);

    // Another writer adds a field of its own: nothing of this manager's changed.
    await uncached.patch(desired, { metadata: { labels: { other: 'y' } } }, { fieldManager: 'someone-else' });
    sent = applies();
    await settled(desired);
    await fresh().apply(desired);
    expect(applies(), 'a field of another writer').to.equal(sent);

    // The configuration no longer sets a field it set: the apply removes it.
    const fewer = configMap('restart', { a: '1' });
    expect((await fresh().apply(fewer)).metadata?.labels).to.deep.equal({ other: 'y' });
    expect(applies(), 'a field no longer set').to.equal(++sent);

    // A changed value, a reordered list, a port that now names its protocol explicitly.
    await settled(service);
    const ports = service.spec!.ports!;
    for (const changed of [
      { ...service, spec: { ...service.spec, selector: { app: 'z' } } },
      { ...service, spec: { ...service.spec, ports: [ports[1]!, ports[0]!] } },
      { ...service, spec: { ...service.spec, ports: [{ ...ports[0]!, protocol: 'TCP' }, ports[1]!] } },
    ]) {
      await fresh().apply(changed);
      expect(applies(), JSON.stringify(changed.spec)).to.equal(++sent);
      await settled(service);
      await fresh().apply(changed);
      expect(applies(), `then in place: ${JSON.stringify(changed.spec)}`).to.equal(sent);
    }
  });
});
