// Related watches on a real API server: Databases reference Secrets by name; a Secret's
// events reconcile exactly the Databases that name it (an index on the parents), filtered
// by a predicate; the operator runs with exactly the RBAC generated for it.
import 'reflect-metadata';
import { expect } from 'chai';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { generateRBAC } from '../../lib/generate/index.js';
import type { Condition } from '../../lib/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { fieldChanged } from '../../lib/watch/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { DATABASE, database, databaseCRD, databaseLedger, databaseOperator, secret, type Database } from '../support/database-operator.js';
import { startOperator, stopOperators } from '../support/operators.js';
import { createAll, serviceAccountKubeConfig } from '../support/service-account.js';
import { eventually, metricValue, scrape } from '../support/wait.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const apiVersion = `${DATABASE.group}/${DATABASE.version}`;

describe('@Watches on a real API server: Secrets referenced by name', function () {
  this.timeout(300_000);
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

  const readyOf = async (ns: string): Promise<Map<string, Condition | undefined>> => {
    const list = await objects.list<Database>(apiVersion, DATABASE.kind, ns);
    return new Map(list.items.map((db) => [db.metadata!.name!, db.status?.conditions?.find((c) => c.type === 'Ready')]));
  };
  const count = (ns: string, name: string) => databaseLedger.get(`${ns}/${name}`) ?? 0;
  const patchData = (ns: string, name: string, password: string) =>
    core.patchNamespacedSecret({ name, namespace: ns, body: { stringData: { password } } }, mergePatch);

  it('100 parents, 10 Secrets: a change reconciles exactly the 10 that reference it; a deletion gives them SecretNotFound', async () => {
    const ns = await plane.createNamespace('secrets');
    const secrets = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const parents = Array.from({ length: 100 }, (_, i) => ({ name: `db-${String(i).padStart(3, '0')}`, secret: secrets[i % 10]! }));
    for (const s of [...secrets, 'barrier']) await core.createNamespacedSecret({ namespace: ns, body: secret(ns, s, 'initial') });
    for (const p of [...parents, { name: 'barrier', secret: 'barrier' }]) await objects.create(database(ns, p.name, p.secret));

    const { registry, components } = databaseOperator({ predicates: [fieldChanged('data')] });
    // One worker: the queue hands keys out in order, so the barrier below is reconciled last.
    const operator = await startOperator(plane.kubeConfig, { name: 'database-operator', registry, reconcilers: components, namespaces: [ns], maxConcurrentReconciles: 1 });
    await eventually(async () => [...(await readyOf(ns)).values()].every((c) => c?.status === 'True'), { timeoutMs: 120_000, message: 'every Database Ready' });

    let barriers = 0;
    /** Every event before it has been mapped and its reconciles have run: the barrier Secret's Database is reconciled after them. */
    const barrier = async () => {
      const before = count(ns, 'barrier');
      await patchData(ns, 'barrier', `b${++barriers}`);
      await eventually(() => count(ns, 'barrier') > before, { timeoutMs: 60_000, message: 'barrier reconciled' });
    };
    const counts = () => Object.fromEntries(parents.map((p) => [p.name, count(ns, p.name)]));
    const expected = (bump: string | undefined, base: Record<string, number>) =>
      Object.fromEntries(parents.map((p) => [p.name, base[p.name]! + (p.secret === bump ? 1 : 0)]));

    await barrier();
    const start = counts();
    expect(Object.values(start).every((c) => c === 1), 'one reconcile per Database to converge').to.equal(true);

    await patchData(ns, 's3', 'rotated');
    await barrier();
    const afterChange = counts();
    expect(afterChange).to.deep.equal(expected('s3', start));

    // A label change is not a data change: the predicate drops it, nothing is reconciled.
    await core.patchNamespacedSecret({ name: 's5', namespace: ns, body: { metadata: { labels: { touched: 'yes' } } } }, mergePatch);
    await barrier();
    expect(counts()).to.deep.equal(afterChange);

    await core.deleteNamespacedSecret({ name: 's7', namespace: ns });
    await barrier();
    expect(counts()).to.deep.equal(expected('s7', afterChange));
    const ready = await readyOf(ns);
    for (const p of parents) {
      const condition = ready.get(p.name);
      if (p.secret === 's7') expect(condition, p.name).to.include({ status: 'False', reason: 'SecretNotFound', message: 'secret s7 not found' });
      else expect(condition, p.name).to.include({ status: 'True', reason: 'SecretFound' });
    }

    await core.createNamespacedSecret({ namespace: ns, body: secret(ns, 's7', 'back') });
    await eventually(async () => [...(await readyOf(ns)).values()].every((c) => c?.status === 'True'), { timeoutMs: 60_000, message: 'every Database Ready again' });

    const metrics = await scrape(operator.metricsUrl!);
    expect(metricValue(metrics, 'maestro_watch_events_total', { resource: 'secrets.core', result: 'filtered' })).to.be.at.least(1);
    expect(metricValue(metrics, 'maestro_watch_map_errors_total')).to.equal(0);
    expect(metricValue(metrics, 'controller_runtime_reconcile_errors_total', { controller: 'database' })).to.equal(0);
  });

  it('runs with exactly its generated RBAC (list and watch on Secrets in its namespace, no get); a read of a kind it does not cache says why it was refused', async () => {
    const ns = await plane.createNamespace('secrets-rbac');
    const { registry, components } = databaseOperator();
    const serviceAccount = { name: 'database-operator', namespace: ns };
    const rbac = generateRBAC(components, { name: 'database-operator', serviceAccount, namespaces: [ns], registry });
    const role = rbac.find((o) => o.kind === 'Role') as { rules: Array<{ resources: string[]; verbs: string[] }> };
    expect(role.rules.find((r) => r.resources.includes('secrets'))?.verbs).to.deep.equal(['list', 'watch']);
    await createAll(plane.kubeConfig, rbac);
    const kubeConfig = await serviceAccountKubeConfig(plane.kubeConfig, serviceAccount);

    await core.createNamespacedSecret({ namespace: ns, body: secret(ns, 'creds', 'x') });
    await objects.create(database(ns, 'ok', 'creds'));
    await objects.create(database(ns, 'probing', 'creds', { probeService: 'db' }));
    await startOperator(kubeConfig, { name: 'database-operator', registry, reconcilers: components, namespaces: [ns] });

    await eventually(async () => (await readyOf(ns)).get('ok')?.reason === 'SecretFound', { timeoutMs: 60_000, message: 'ok is Ready' });
    const probing = await eventually(async () => {
      const c = (await readyOf(ns)).get('probing');
      return c?.reason === 'Forbidden' ? c : undefined;
    }, { timeoutMs: 60_000, message: 'probing fails with Forbidden' });
    expect(probing.message).to.contain('Service (v1) is not cached by this operator, so this read went to the API server')
      .and.contain("declare @Uses(Service, { verbs: ['get', 'list'] })");

    // The Secret watch works on these permissions: a change reaches the Database.
    const before = count(ns, 'ok');
    await patchData(ns, 'creds', 'rotated');
    await eventually(() => count(ns, 'ok') > before, { timeoutMs: 60_000, message: 'ok reconciled after the Secret changed' });
  });
});
