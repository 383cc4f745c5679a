// The event sources of a controller (lib/runtime/sources.ts) on the fake client: related
// watches mapped by index, label and owner, event filters, and map functions that fail.
import 'reflect-metadata';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { V1ConfigMap, V1Secret, type V1ObjectMeta } from '@kubernetes/client-node';
import { decoratorsFor } from '../../decorators/index.js';
import { Context, fetchState, isNotFound, type Client, type Condition, type Reconciler, type Result } from '../../lib/index.js';
import { noopLogger } from '../../lib/conductor/index.js';
import { Controller, Metrics, ReconcilePipeline, ReconcileScope, Registry, Terms, buildSpecs, planInjection } from '../../lib/runtime/index.js';
import { FakeClient } from '../../lib/testing/index.js';
import { annotationChanged, byIndex, byLabel, byOwner, fieldChanged, type MapFunction } from '../../lib/watch/index.js';
import { tick, waitFor } from '../queue/wait.js';
import { metricValue, parseMetrics } from '../support/wait.js';

const registry = new Registry();
const { Resource, Parent, Reconciles, Watches, Index } = decoratorsFor(registry);

@Resource({ group: 'unit.maestro.dev', version: 'v1', kind: 'Db' })
class Db {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec!: { secretName: string };
  status?: { conditions?: Condition[] };
}

const NS = 'app';
const reconciles = new Map<string, number>();
/** Map functions that misbehave for ConfigMaps named so. */
const misbehave: MapFunction<V1ConfigMap> = async (cm) => {
  const name = cm.metadata!.name!;
  if (name === 'throws') throw new Error('bug in the map');
  if (name === 'rejects') return Promise.reject(new Error('async bug'));
  if (name === 'garbage') return 'db-0' as unknown as [];
  if (name === 'partly') return [{ name: 'db-1' }, { nme: 'x' } as never, null as never, { name: 'db-2', namespace: 7 } as never];
  return [];
};

@Parent(Db, { predicates: [{ update: (_a, b) => b.metadata?.annotations?.['unit.maestro.dev/ignore'] !== 'true' }] }) @Reconciles(10)
@Index(Db, 'spec.secretName', (db) => [db.spec.secretName])
@Watches(V1Secret, byIndex('spec.secretName'), { predicates: [fieldChanged('data')] })
@Watches(V1ConfigMap, misbehave)
@Watches(V1ConfigMap, byLabel('unit.maestro.dev/db'), { predicates: [annotationChanged('unit.maestro.dev/poke')] })
class Connect implements Reconciler<Db> {
  async reconcile(ctx: Context, client: Client, db: Db): Promise<Result> {
    const key = `${db.metadata!.namespace}/${db.metadata!.name}`;
    reconciles.set(key, (reconciles.get(key) ?? 0) + 1);
    try {
      await client.get(V1Secret, { name: db.spec.secretName });
      fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'SecretFound' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      fetchState(ctx).addCondition({ type: 'Ready', status: 'False', reason: 'SecretNotFound', message: `secret ${db.spec.secretName} not found` });
    }
    return {};
  }
}

const db = (name: string, secretName: string): Db => ({ apiVersion: 'unit.maestro.dev/v1', kind: 'Db', metadata: { name, namespace: NS }, spec: { secretName } });
const secret = (name: string, data: Record<string, string> = { password: 'x' }): V1Secret =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });
const cm = (name: string, labels: Record<string, string> = {}): V1ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, labels }, data: {} });

function harness(objects: Array<Db | V1Secret | V1ConfigMap>) {
  const client = new FakeClient({ registry, objects });
  const spec = buildSpecs({ registry, components: [Connect] }).parents[0]!;
  const root = container.createChildContainer();
  const { plan } = planInjection(spec, registry, root);
  const pipeline = new ReconcilePipeline(spec, {
    scopes: (object, reconcileClient, logger) => new ReconcileScope(root, spec.type, plan, object, reconcileClient, logger),
    readLive: (obj, signal) => client.readLive(obj, signal),
    events: { event: () => undefined },
  });
  const metrics = new Metrics();
  const controller = new Controller({ spec, source: client.source, client, pipeline, metrics, logger: noopLogger, resources: registry.resources });
  controller.watch();
  const terms = new Terms([controller], Context.background(), { logger: noopLogger, graceMs: 5_000 });
  /** Every announced event handled and every key reconciled (the fake announces on the next turn). */
  const settled = async () => {
    for (let quiet = 0; quiet < 20; quiet++) {
      await tick();
      if ((controller.queue?.len() ?? 0) > 0 || controller.inFlight > 0) quiet = 0;
    }
  };
  const ready = (name: string) => client.objects(Db).find((d) => d.metadata?.name === name)?.status?.conditions?.find((c) => c.type === 'Ready');
  const metric = async (name: string, labels: Record<string, string>) => metricValue(parseMetrics(await metrics.text()), name, labels);
  return { client, controller, terms, settled, ready, metric };
}

const counts = (names: string[]) => names.map((n) => reconciles.get(`${NS}/${n}`) ?? 0);

describe('event sources: related watches on the fake client', () => {
  let h: ReturnType<typeof harness> | undefined;
  beforeEach(() => reconciles.clear());
  afterEach(async () => {
    await h?.terms.stop(1_000);
    h = undefined;
  });

  const dbs = ['db-0', 'db-1', 'db-2', 'db-3', 'db-4', 'db-5'];
  const setup = async () => {
    h = harness([...dbs.map((n, i) => db(n, `s${i % 3}`)), secret('s0'), secret('s1'), secret('s2'), cm('plain')]);
    h.terms.begin();
    await waitFor(() => dbs.every((n) => h!.ready(n)?.status === 'True'), 'every Db Ready');
    await h.settled();
    expect(counts(dbs), 'one reconcile each at the start').to.deep.equal([1, 1, 1, 1, 1, 1]);
    return h;
  };

  it('a Secret change reconciles exactly the parents whose index names it; a deletion gives them SecretNotFound', async () => {
    const { client, settled, ready, metric } = await setup();
    const s1 = await client.get(V1Secret, { namespace: NS, name: 's1' });
    await client.update({ ...s1, data: { password: Buffer.from('changed').toString('base64') } });
    await waitFor(() => counts(['db-1', 'db-4']).every((c) => c === 2), 'db-1 and db-4 reconciled');
    await settled();
    expect(counts(dbs)).to.deep.equal([1, 2, 1, 1, 2, 1]);

    await client.delete(s1);
    await waitFor(() => ready('db-1')?.reason === 'SecretNotFound' && ready('db-4')?.reason === 'SecretNotFound', 'SecretNotFound');
    await settled();
    expect(counts(dbs)).to.deep.equal([1, 3, 1, 1, 3, 1]);
    expect(ready('db-0')?.reason).to.equal('SecretFound');
    expect(await metric('maestro_watch_events_total', { resource: 'secrets.core', result: 'enqueued' }), 'the update and the deletion').to.equal(2);
  });

  it('a predicate suppresses what it should (a label change of a Secret) and nothing else', async () => {
    const { client, settled, metric } = await setup();
    const filteredBefore = await metric('maestro_watch_events_total', { resource: 'secrets.core', result: 'filtered' });
    const s0 = await client.get(V1Secret, { namespace: NS, name: 's0' });
    const relabelled = await client.update({ ...s0, metadata: { ...s0.metadata, labels: { touched: 'yes' } } });
    await settled();
    expect(counts(dbs), 'labels are not data').to.deep.equal([1, 1, 1, 1, 1, 1]);
    expect(await metric('maestro_watch_events_total', { resource: 'secrets.core', result: 'filtered' })).to.equal(filteredBefore + 1);
    await client.update({ ...relabelled, data: { password: Buffer.from('new').toString('base64') } });
    await waitFor(() => counts(['db-0', 'db-3']).every((c) => c === 2), 'db-0 and db-3 reconciled');
    await settled();
    expect(counts(dbs)).to.deep.equal([2, 1, 1, 2, 1, 1]);
    // A new Secret (a create) passes the update filter: nobody references it, so it maps to nothing.
    await client.create(secret('unreferenced'));
    await settled();
    expect(counts(dbs)).to.deep.equal([2, 1, 1, 2, 1, 1]);
  });

  it('parent predicates filter parent updates on top of the built-in filter', async () => {
    const { client, settled } = await setup();
    const d0 = client.objects(Db).find((d) => d.metadata?.name === 'db-0')!;
    const ignored = await client.update({ ...d0, metadata: { ...d0.metadata, annotations: { 'unit.maestro.dev/ignore': 'true' } } });
    await settled();
    expect(counts(['db-0'])).to.deep.equal([1]);
    await client.update({ ...ignored, metadata: { ...ignored.metadata, annotations: { 'unit.maestro.dev/ignore': 'false' } } });
    await waitFor(() => counts(['db-0'])[0] === 2, 'db-0 reconciled');
  });

  it('a map that throws, rejects or returns garbage is counted and logged; valid keys still enqueue; the controller goes on', async () => {
    const { client, settled, metric } = await setup();
    for (const name of ['throws', 'rejects', 'garbage', 'partly']) await client.create(cm(name));
    await waitFor(() => counts(['db-1'])[0] === 2, 'db-1 named by the partly valid map');
    await settled();
    expect(counts(dbs)).to.deep.equal([1, 2, 1, 1, 1, 1]);
    expect(await metric('maestro_watch_map_errors_total', { resource: 'configmaps.core', reason: 'threw' })).to.equal(2);
    expect(await metric('maestro_watch_map_errors_total', { resource: 'configmaps.core', reason: 'invalid_result' })).to.equal(2);
    // byLabel on the same kind, with its own filter: only a changed poke annotation maps.
    const labelled = await client.create(cm('for-db-5', { 'unit.maestro.dev/db': 'db-5' }));
    await waitFor(() => counts(['db-5'])[0] === 2, 'db-5 named by its label');
    await client.update({ ...labelled, data: { any: 'change' } });
    await settled();
    expect(counts(['db-5']), 'no poke, no reconcile').to.deep.equal([2]);
    const current = await client.get(V1ConfigMap, { namespace: NS, name: 'for-db-5' });
    await client.update({ ...current, metadata: { ...current.metadata, annotations: { 'unit.maestro.dev/poke': '1' } } });
    await waitFor(() => counts(['db-5'])[0] === 3, 'db-5 poked');
  });
});

describe('map helpers', () => {
  const ctx = (namespaced = true) => ({
    client: new FakeClient({ registry }),
    parentType: Db,
    parent: { ...registry.resources.of(Db), namespaced },
    resourceOf: (t: never) => registry.resources.of(t),
    logger: noopLogger,
    signal: new AbortController().signal,
  });

  it('byOwner names every owner reference of the parent kind (or only the controller), in the object\u2019s namespace', async () => {
    const obj = cm('x');
    obj.metadata!.ownerReferences = [
      { apiVersion: 'unit.maestro.dev/v1', kind: 'Db', name: 'a', uid: '1', controller: true },
      { apiVersion: 'unit.maestro.dev/v1', kind: 'Db', name: 'b', uid: '2' },
      { apiVersion: 'other.dev/v1', kind: 'Db', name: 'c', uid: '3' },
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'd', uid: '4' },
    ];
    expect(await byOwner()(obj, ctx())).to.deep.equal([{ name: 'a', namespace: NS }, { name: 'b', namespace: NS }]);
    expect(await byOwner({ controllerOnly: true })(obj, ctx())).to.deep.equal([{ name: 'a', namespace: NS }]);
    expect(await byOwner({ type: V1ConfigMap })(obj, ctx(false))).to.deep.equal([{ name: 'd' }]);
  });

  it('byLabel names the parent in a label, in the object\u2019s namespace or another label\u2019s', async () => {
    const obj = cm('x', { 'unit.maestro.dev/db': 'a', 'unit.maestro.dev/ns': 'elsewhere' });
    expect(await byLabel('unit.maestro.dev/db')(obj, ctx())).to.deep.equal([{ name: 'a', namespace: NS }]);
    expect(await byLabel('unit.maestro.dev/db', { namespaceLabel: 'unit.maestro.dev/ns' })(obj, ctx())).to.deep.equal([{ name: 'a', namespace: 'elsewhere' }]);
    expect(await byLabel('missing')(obj, ctx())).to.deep.equal([]);
  });

  it('byIndex looks parents up by the object\u2019s name, or other values, in its namespace', async () => {
    const c = ctx();
    for (const d of [db('a', 's1'), db('b', 's2'), { ...db('c', 's1'), metadata: { name: 'c', namespace: 'other' } }]) await c.client.create(d);
    expect(await byIndex('spec.secretName')(secret('s1'), c)).to.deep.equal([{ name: 'a', namespace: NS }]);
    expect(await byIndex<V1Secret>('spec.secretName', { value: () => ['s1', 's2'] })(secret('zz'), c)).to.deep.equal([{ name: 'a', namespace: NS }, { name: 'b', namespace: NS }]);
  });
});
