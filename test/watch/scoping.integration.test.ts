// Cache scoping on a real API server: a label-selected Secret cache combined with an index
// (it holds and sees only the labelled Secrets); a metadata-only ConfigMap watch (the API
// server sends PartialObjectMetadata); one informer for a kind owned by one component and
// watched by another, with a transform.
import 'reflect-metadata';
import { expect } from 'chai';
import {
  CoreV1Api, KubernetesObjectApi, PatchStrategy, V1ConfigMap, V1Secret, setHeaderOptions, type V1ObjectMeta,
} from '@kubernetes/client-node';
import { decoratorsFor } from '../../decorators/index.js';
import { Client, Context, fetchState, type Condition, type Reconciler, type Result } from '../../lib/index.js';
import { METADATA_LIST_ACCEPT, OperatorStartError, Registry, createOperator, resourceOf, type Operator } from '../../lib/runtime/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { byLabel } from '../../lib/watch/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { DATABASE, Database, database, databaseCRD, databaseLedger, databaseOperator, secret } from '../support/database-operator.js';
import { startOperator, stopOperators, testLogger, testServer } from '../support/operators.js';
import { eventually } from '../support/wait.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const SELECTED = 'watch.it.maestro.dev/db';
const DB_LABEL = 'watch.it.maestro.dev/for';

/** Reconciles per Database and what its reconciler observed, for the operators defined here. */
const observed = new Map<string, { reconciles: number; note: string }>();
const note = (db: Database, text: string) => {
  const key = `${db.metadata!.namespace}/${db.metadata!.name}`;
  observed.set(key, { reconciles: (observed.get(key)?.reconciles ?? 0) + 1, note: text });
};

/** Watches ConfigMaps metadata-only, by a label naming the Database; reads them by metadata and whole. */
function metadataOperator() {
  const registry = new Registry();
  const { Resource, Parent, Reconciles, Watches } = decoratorsFor(registry);
  Resource(DATABASE)(Database);
  @Parent(Database) @Reconciles(10) @Watches(V1ConfigMap, byLabel(DB_LABEL), { metadataOnly: true })
  class CountConfigMaps implements Reconciler<Database> {
    async reconcile(ctx: Context, client: Client, db: Database): Promise<Result> {
      const mine = await client.listMetadata(V1ConfigMap, { labelSelector: { [DB_LABEL]: db.metadata!.name! } });
      const names = mine.map((m) => m.metadata.name).sort();
      // Whole objects of a metadata-only kind are read from the API server.
      const first = names[0] ? await client.get(V1ConfigMap, { name: names[0] }) : undefined;
      note(db, `${names.join(',')}|${JSON.stringify(first?.data ?? {})}`);
      fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Counted', message: `${mine.length} configmaps` });
      return {};
    }
  }
  return { registry, components: [CountConfigMaps] };
}

/** Owns one ConfigMap per Database and watches every ConfigMap labelled for one, through one transformed cache. */
function sharedOperator() {
  const registry = new Registry();
  const { Resource, Parent, Reconciles, Watches, Owns } = decoratorsFor(registry);
  Resource(DATABASE)(Database);
  const keepOnlyPublic = (cm: V1ConfigMap): V1ConfigMap => {
    cm.data = Object.fromEntries(Object.entries(cm.data ?? {}).filter(([k]) => k.startsWith('public')));
    return cm;
  };
  @Parent(Database) @Reconciles(10) @Owns(V1ConfigMap)
  class ApplyChild implements Reconciler<Database> {
    async reconcile(_ctx: Context, client: Client, db: Database): Promise<Result> {
      await client.apply<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${db.metadata!.name}-child` }, data: { 'public.txt': 'p', 'secret.txt': 's' } });
      return {};
    }
  }
  @Parent(Database) @Reconciles(20) @Watches(V1ConfigMap, byLabel(DB_LABEL), { transform: keepOnlyPublic })
  class ReadConfig implements Reconciler<Database> {
    async reconcile(ctx: Context, client: Client, db: Database): Promise<Result> {
      const child = await client.get(V1ConfigMap, { name: `${db.metadata!.name}-child` });
      const labelled = await client.list(V1ConfigMap, { labelSelector: { [DB_LABEL]: db.metadata!.name! } });
      note(db, JSON.stringify({ child: child.data, labelled: labelled.map((c) => c.data) }));
      fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Read' });
      return {};
    }
  }
  return { registry, components: [ApplyChild, ReadConfig] };
}

describe('cache scoping on a real API server', function () {
  this.timeout(180_000);
  let plane: ControlPlane;
  let core: CoreV1Api;
  let objects: KubernetesObjectApi;

  before(async () => {
    plane = await sharedControlPlane();
    await plane.installCRDs([databaseCRD()]);
    core = plane.kubeConfig.makeApiClient(CoreV1Api);
    objects = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
  });
  afterEach(() => stopOperators());

  const ready = async (ns: string, name: string): Promise<Condition | undefined> =>
    (await objects.read<Database>(database(ns, name, '') as Database & { metadata: { name: string } })).status?.conditions?.find((c) => c.type === 'Ready');
  const count = (ns: string, name: string) => databaseLedger.get(`${ns}/${name}`) ?? 0;
  const informersOf = (operator: Operator, type: typeof V1Secret | typeof V1ConfigMap) =>
    operator.manager.cache.all().filter((i) => i.resource === resourceOf(type));

  it('a label-selected Secret cache with an index holds and sees only the labelled Secrets; relabelling moves them in and out', async () => {
    const ns = await plane.createNamespace('selected');
    await core.createNamespacedSecret({ namespace: ns, body: secret(ns, 'labelled', 'x', { [SELECTED]: 'true' }) });
    await core.createNamespacedSecret({ namespace: ns, body: secret(ns, 'plain', 'x') });
    for (let i = 0; i < 5; i++) await core.createNamespacedSecret({ namespace: ns, body: secret(ns, `other-${i}`, 'x') });
    await objects.create(database(ns, 'a', 'labelled'));
    await objects.create(database(ns, 'b', 'plain'));
    const { registry, components } = databaseOperator({ labelSelector: { [SELECTED]: 'true' } });
    const operator = await startOperator(plane.kubeConfig, { name: 'database-operator', registry, reconcilers: components, namespaces: [ns] });

    await eventually(async () => (await ready(ns, 'a'))?.reason === 'SecretFound', { message: 'a sees its labelled Secret' });
    await eventually(async () => (await ready(ns, 'b'))?.reason === 'SecretNotFound', { message: 'b does not see its plain Secret' });
    const [informer] = informersOf(operator, V1Secret);
    expect(informersOf(operator, V1Secret)).to.have.length(1);
    expect(informer!.list().map((s) => s.metadata?.name)).to.deep.equal(['labelled']);
    expect((await core.listNamespacedSecret({ namespace: ns })).items.length, 'the namespace has more').to.be.at.least(7);
    // The operator's own client, outside any reconcile: the selected cache, and the parents' index.
    expect((await operator.client.list(V1Secret, { namespace: ns })).map((s) => s.metadata?.name)).to.deep.equal(['labelled']);
    expect((await operator.client.list(Database, { namespace: ns, index: { 'spec.secretName': 'plain' } })).map((d) => d.metadata?.name)).to.deep.equal(['b']);

    // A change of an unselected Secret is not seen; one of the selected is (a barrier too).
    const b = count(ns, 'b');
    await core.patchNamespacedSecret({ name: 'plain', namespace: ns, body: { stringData: { password: 'y' } } }, mergePatch);
    const a = count(ns, 'a');
    await core.patchNamespacedSecret({ name: 'labelled', namespace: ns, body: { stringData: { password: 'y' } } }, mergePatch);
    await eventually(() => count(ns, 'a') > a, { message: 'a reconciled' });
    expect(count(ns, 'b'), 'the plain Secret changed unseen').to.equal(b);

    // Labelled, the plain Secret enters the cache (an ADDED event mapped by the index) ...
    await core.patchNamespacedSecret({ name: 'plain', namespace: ns, body: { metadata: { labels: { [SELECTED]: 'true' } } } }, mergePatch);
    await eventually(async () => (await ready(ns, 'b'))?.reason === 'SecretFound', { message: 'b sees its Secret once labelled' });
    // ... and unlabelled, the other one leaves it (the watch sends DELETED).
    await core.patchNamespacedSecret({ name: 'labelled', namespace: ns, body: { metadata: { labels: { [SELECTED]: null } } } }, mergePatch);
    await eventually(async () => (await ready(ns, 'a'))?.reason === 'SecretNotFound', { message: 'a loses its Secret once unlabelled' });
    expect(informer!.list().map((s) => s.metadata?.name)).to.deep.equal(['plain']);
  });

  it('a metadata-only watch holds names, labels and owners only; events still arrive; whole objects are read from the API server', async () => {
    const ns = await plane.createNamespace('metadata');
    const operatorObjects = metadataOperator();
    for (const [name, db] of [['one', 'm'], ['two', 'm'], ['three', 'other']]) {
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: { [DB_LABEL]: db! } }, data: { big: 'x'.repeat(1000), name: name! } } });
    }
    await objects.create(database(ns, 'm', 'unused'));
    const operator = await startOperator(plane.kubeConfig, { name: 'metadata-operator', ...operatorObjects, reconcilers: operatorObjects.components, namespaces: [ns] });
    await eventually(async () => (await ready(ns, 'm'))?.message === '2 configmaps', { message: 'm counts its ConfigMaps' });
    expect(observed.get(`${ns}/m`)?.note).to.equal(`one,two|${JSON.stringify({ big: 'x'.repeat(1000), name: 'one' })}`);

    const [informer] = informersOf(operator, V1ConfigMap);
    expect(informer!.metadataOnly).to.equal(true);
    const held = informer!.list();
    // The controller manager adds kube-root-ca.crt to a new namespace when it gets to it: before or after this read.
    expect(held.map((c) => c.metadata?.name).filter((n) => n !== 'kube-root-ca.crt').sort()).to.deep.equal(['one', 'three', 'two']);
    for (const cm of held) {
      expect(Object.keys(cm).sort(), cm.metadata?.name).to.deep.equal(['apiVersion', 'kind', 'metadata']);
      expect(cm).to.include({ apiVersion: 'v1', kind: 'ConfigMap' });
      expect(cm.metadata?.managedFields).to.equal(undefined);
    }
    // What the informer asks for, the API server honours: PartialObjectMetadata, without the data.
    const list = await operator.manager.transport.send<{ kind: string; items: Array<Record<string, unknown>> }>('GET', `/api/v1/namespaces/${ns}/configmaps`, { accept: METADATA_LIST_ACCEPT });
    expect(list.kind).to.equal('PartialObjectMetadataList');
    expect(list.items.every((i) => i['kind'] === 'PartialObjectMetadata' && !('data' in i))).to.equal(true);

    // A data change arrives as a metadata change (a new resourceVersion) and reconciles m.
    const before = observed.get(`${ns}/m`)!.reconciles;
    await core.patchNamespacedConfigMap({ name: 'one', namespace: ns, body: { data: { name: 'changed' } } }, mergePatch);
    await eventually(() => observed.get(`${ns}/m`)!.reconciles > before && observed.get(`${ns}/m`)!.note.includes('"name":"changed"'), { message: 'm reconciled with the new data' });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'four', labels: { [DB_LABEL]: 'm' } } } });
    await eventually(async () => (await ready(ns, 'm'))?.message === '3 configmaps', { message: 'a new ConfigMap counted' });
  });

  it('a kind owned by one component and watched by another shares one informer, transformed', async () => {
    const ns = await plane.createNamespace('shared');
    const operatorObjects = sharedOperator();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'extra', labels: { [DB_LABEL]: 's' } }, data: { 'public.a': '1', private: '2' } } });
    await objects.create(database(ns, 's', 'unused'));
    const operator = await startOperator(plane.kubeConfig, { name: 'shared-operator', ...operatorObjects, reconcilers: operatorObjects.components, namespaces: [ns] });
    await eventually(async () => (await ready(ns, 's'))?.reason === 'Read', { message: 's reconciled' });
    const informers = informersOf(operator, V1ConfigMap);
    expect(informers).to.have.length(1);
    expect(informers[0]!.stats.lists).to.equal(1);
    await eventually(() => observed.get(`${ns}/s`)?.note === JSON.stringify({ child: { 'public.txt': 'p' }, labelled: [{ 'public.a': '1' }] }), {
      message: 'the cached child and the watched ConfigMap, transformed', timeoutMs: 5_000,
    }).catch((err: unknown) => { throw new Error(`${String(err)}; observed ${observed.get(`${ns}/s`)?.note}`); });
    const child = await core.readNamespacedConfigMap({ name: 's-child', namespace: ns });
    expect(child.data, 'the API server has everything').to.deep.equal({ 'public.txt': 'p', 'secret.txt': 's' });
    // Its event reconciles s (the watched ConfigMap, mapped by label).
    const before = observed.get(`${ns}/s`)!.reconciles;
    await core.patchNamespacedConfigMap({ name: 'extra', namespace: ns, body: { data: { 'public.a': '3' } } }, mergePatch);
    await eventually(() => observed.get(`${ns}/s`)!.reconciles > before && observed.get(`${ns}/s`)!.note.includes('"public.a":"3"'), { message: 's reconciled' });
  });

  it('a selector the API server refuses fails start at once with its answer; a kind that cannot be listed is named with its last error', async () => {
    const ns = await plane.createNamespace('refused');
    const refusedOperator = (scope: { fieldSelector: string }) => {
      const registry = new Registry();
      const { Resource, Parent, Reconciles, Watches } = decoratorsFor(registry);
      Resource(DATABASE)(Database);
      @Parent(Database) @Reconciles(10) @Watches(V1Secret, byLabel(DB_LABEL), scope)
      class Noop implements Reconciler<Database> {
        async reconcile(): Promise<Result> {
          return {};
        }
      }
      return { registry, reconcilers: [Noop] };
    };
    // Well-formed, so no declaration check can refuse it: only the API server knows Secrets have no such field.
    const operator = createOperator({
      name: 'refused-operator', kubeConfig: plane.kubeConfig, ...refusedOperator({ fieldSelector: 'spec.bogus=1' }), namespaces: [ns],
      server: testServer, logger: testLogger(), cacheSyncTimeoutMs: 60_000,
    });
    const started = performance.now();
    const err = await operator.start({ handleSignals: false }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(OperatorStartError);
    expect((err as Error).message).to.match(new RegExp(`^the API server refused to list secrets.core in ${ns}: .*field label not supported: spec.bogus`))
      .and.contain('check the labelSelector and fieldSelector');
    expect(performance.now() - started, 'not after the 60 s sync timeout: a 400 does not change on retry').to.be.below(30_000);

    // A kind the API server does not serve (its CRD is not installed): retried until the timeout, then named with why.
    const registry = new Registry();
    const { Resource, Parent, Reconciles } = decoratorsFor(registry);
    class Missing { apiVersion?: string; kind?: string; metadata?: V1ObjectMeta; }
    Resource({ group: 'missing.maestro.dev', version: 'v1', kind: 'Missing' })(Missing);
    @Parent(Missing) @Reconciles(10)
    class NoopMissing implements Reconciler<Missing> {
      async reconcile(): Promise<Result> {
        return {};
      }
    }
    const missing = createOperator({
      name: 'missing-operator', kubeConfig: plane.kubeConfig, registry, reconcilers: [NoopMissing], namespaces: [ns],
      server: testServer, logger: testLogger(), cacheSyncTimeoutMs: 3_000,
    });
    const timedOut = await missing.start({ handleSignals: false }).then(() => undefined, (e: unknown) => e);
    expect(timedOut).to.be.instanceOf(OperatorStartError);
    expect((timedOut as Error).message).to.match(new RegExp(`^caches did not sync within 3000 ms: missings.missing.maestro.dev in ${ns} \\(last error: .*404`))
      .and.contain('is the CRD installed');
  });
});
