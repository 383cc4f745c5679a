// createOperator() against a real kube-apiserver + etcd (the shared local control plane).
import 'reflect-metadata';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { Widgets, startOperator, stopOperators } from '../support/operators.js';
import { eventually, metricValue, scrape } from '../support/wait.js';
import { defaultControllerRateLimiter, type RateLimiter } from '../../lib/runtime/index.js';
import { WidgetLedger, widget, widgetCRD, widgetReconcilers } from '../support/widget-operator.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('createOperator() on a real API server', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let core: CoreV1Api;
  const ledger = container.resolve(WidgetLedger);

  before(async () => {
    plane = await sharedControlPlane();
    await plane.installCRDs([widgetCRD()]);
    core = plane.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(() => stopOperators());

  const operatorIn = (namespace: string, extra: Parameters<typeof startOperator>[1] = {}) =>
    startOperator(plane.kubeConfig, { name: 'widget-operator', reconcilers: widgetReconcilers, namespaces: [namespace], ...extra });

  it('converges 50 parents: children with a controller owner reference, Ready=True for the current generation', async () => {
    const ns = await plane.createNamespace('fifty');
    const widgets = new Widgets(plane.kubeConfig, ns);
    const operator = await operatorIn(ns, { maxConcurrentReconciles: 4 });
    const names = Array.from({ length: 50 }, (_, i) => `w${i}`);
    await Promise.all(names.map((n) => widgets.create(widget(ns, n, { message: `hi ${n}` }))));
    for (const name of names) {
      const w = await widgets.waitReady(name, 60_000);
      const cm = await core.readNamespacedConfigMap({ name, namespace: ns });
      const svc = await core.readNamespacedService({ name, namespace: ns });
      for (const child of [cm, svc]) {
        expect(child.metadata?.ownerReferences, `${child.kind} ${name}`).to.deep.equal([{
          apiVersion: 'it.maestro.dev/v1', kind: 'Widget', name, uid: w.metadata!.uid, controller: true, blockOwnerDeletion: true,
        }]);
      }
      expect(cm.data).to.deep.equal({ message: `hi ${name}` });
      expect(w.status?.observedGeneration).to.equal(w.metadata?.generation);
      expect(w.metadata?.finalizers).to.deep.equal(['it.maestro.dev/cleanup']);
    }
    // One reconcile each: the echoes of the operator's own writes (finalizer, children, status) enqueue nothing.
    expect(names.map((n) => ledger.count(`${ns}/${n}`))).to.deep.equal(names.map(() => 1));
    const metrics = await scrape(operator.metricsUrl!);
    expect(metricValue(metrics, 'controller_runtime_reconcile_total', { controller: 'widget', result: 'success' })).to.equal(50);
    expect(metricValue(metrics, 'controller_runtime_reconcile_errors_total', { controller: 'widget' })).to.equal(0);
    expect(metricValue(metrics, 'workqueue_adds_total', { name: 'widget' })).to.be.at.least(50);
    expect(metricValue(metrics, 'controller_runtime_max_concurrent_reconciles', { controller: 'widget' })).to.equal(4);
  });

  it('re-applies children on a spec change, recreates a deleted child and restores an edited one', async () => {
    const ns = await plane.createNamespace('drift');
    const widgets = new Widgets(plane.kubeConfig, ns);
    await operatorIn(ns);
    await widgets.create(widget(ns, 'a', { message: 'one' }));
    await widgets.waitReady('a');

    const reconciles = ledger.count(`${ns}/a`);
    await widgets.patchSpec('a', { message: 'two' });
    await eventually(async () => (await core.readNamespacedConfigMap({ name: 'a', namespace: ns })).data?.message === 'two', { message: 'configmap follows the spec' });
    await widgets.waitReady('a');
    expect(ledger.count(`${ns}/a`), 'one reconcile for one spec change').to.equal(reconciles + 1);

    const before = await core.readNamespacedConfigMap({ name: 'a', namespace: ns });
    await core.deleteNamespacedConfigMap({ name: 'a', namespace: ns });
    const recreated = await eventually(async () => {
      const cm = await core.readNamespacedConfigMap({ name: 'a', namespace: ns });
      return cm.metadata?.uid !== before.metadata?.uid ? cm : undefined;
    }, { message: 'deleted configmap recreated' });
    expect(recreated.data).to.deep.equal({ message: 'two' });

    await core.patchNamespacedConfigMap({ name: 'a', namespace: ns, body: { data: { message: 'hand edit' } } }, mergePatch);
    await eventually(async () => (await core.readNamespacedConfigMap({ name: 'a', namespace: ns })).data?.message === 'two', { message: 'edited configmap restored' });
  });

  it('keeps retrying a failing object with growing backoff, marks it Ready=False, records an Event, and converges the others', async () => {
    const ns = await plane.createNamespace('failing');
    const widgets = new Widgets(plane.kubeConfig, ns);
    // The default rate limiter, recording the delay it decides for each retry of each key.
    const delays = new Map<string, number[]>();
    const recording = (): RateLimiter<string> => {
      const limiter = defaultControllerRateLimiter<string>();
      return {
        when: (key) => { const ms = limiter.when(key); delays.set(key, [...(delays.get(key) ?? []), ms]); return ms; },
        forget: (key) => limiter.forget(key),
        numRequeues: (key) => limiter.numRequeues(key),
      };
    };
    const operator = await operatorIn(ns, { rateLimiter: recording });
    await widgets.create(widget(ns, 'bad', { message: 'fail' }));
    await widgets.create(widget(ns, 'good', { message: 'fine' }));
    await widgets.waitReady('good');
    const failed = await eventually(async () => {
      const w = await widgets.get('bad');
      const ready = widgets.ready(w);
      return ready?.status === 'False' ? ready : undefined;
    }, { message: 'bad widget Ready=False' });
    expect(failed.reason).to.equal('ReconcileError');
    expect(failed.message).to.equal(`WidgetConfigMap: boom for bad`);

    // Exponential backoff, as the queue's rate limiter decided it (not as a loaded machine's
    // clock happened to show it): each failure of the key waited 5 ms doubling, and each wait
    // was followed by another attempt.
    await eventually(() => (ledger.reconciles.get(`${ns}/bad`)?.length ?? 0) >= 8, { timeoutMs: 60_000, message: '8 attempts' });
    const decided = delays.get(`${ns}/bad`) ?? [];
    expect(decided.slice(0, 7)).to.deep.equal([5, 10, 20, 40, 80, 160, 320]);
    expect(ledger.reconciles.get(`${ns}/bad`)!.length, 'one attempt after each decided delay').to.be.at.least(Math.min(decided.length, 8));
    expect(delays.get(`${ns}/good`), 'the good object was never rate limited').to.equal(undefined);

    const metrics = await scrape(operator.metricsUrl!);
    expect(metricValue(metrics, 'controller_runtime_reconcile_errors_total', { controller: 'widget' })).to.be.at.least(7);
    expect(metricValue(metrics, 'workqueue_retries_total', { name: 'widget' })).to.be.at.least(7);
    const events = await eventually(async () => {
      const list = await core.listNamespacedEvent({ namespace: ns });
      const mine = list.items.filter((e) => e.involvedObject.name === 'bad' && e.reason === 'ReconcileError');
      return mine.length > 0 ? mine : undefined;
    }, { message: 'a ReconcileError event' });
    expect(events[0]!.type).to.equal('Warning');
    expect(events[0]!.message).to.contain('boom for bad');
  });

  it('reports an invalid spec as Ready=False/InvalidSpec without running reconcilers or retrying', async () => {
    const ns = await plane.createNamespace('invalid');
    const widgets = new Widgets(plane.kubeConfig, ns);
    const operator = await operatorIn(ns);
    await widgets.create(widget(ns, 'malformed', { message: 42 as unknown as string }));
    await widgets.create(widget(ns, 'long', { message: 'x'.repeat(101), delayMs: -5 }));
    for (const [name, expected] of [['malformed', ['spec.message (isString)']], ['long', ['spec.message (maxLength)', 'spec.delayMs (min)']]] as const) {
      const ready = await eventually(async () => {
        const r = widgets.ready(await widgets.get(name));
        return r?.reason === 'InvalidSpec' ? r : undefined;
      }, { message: `${name} InvalidSpec` });
      expect(ready.status).to.equal('False');
      for (const fragment of expected) expect(ready.message).to.contain(fragment);
    }
    // A barrier: once a later object is reconciled, the invalid ones would have been retried by now.
    await widgets.create(widget(ns, 'later', { message: 'ok' }));
    await widgets.waitReady('later');
    expect(ledger.count(`${ns}/malformed`)).to.equal(0);
    const metrics = await scrape(operator.metricsUrl!);
    expect(metricValue(metrics, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'widget' })).to.equal(2);
    expect(metricValue(metrics, 'workqueue_retries_total', { name: 'widget' })).to.equal(0);
  });

  it('retries a status write that lost a race (409) and loses no update', async () => {
    const ns = await plane.createNamespace('race');
    const widgets = new Widgets(plane.kubeConfig, ns);
    const operator = await operatorIn(ns);
    await widgets.create(widget(ns, 'r', { message: 'first', delayMs: 1500 }));
    // The reconcile is in flight once its ConfigMap exists; change the object under it.
    await eventually(() => core.readNamespacedConfigMap({ name: 'r', namespace: ns }), { message: 'reconcile in flight' });
    // Another writer adds its own condition through the status subresource meanwhile.
    const custom = plane.kubeConfig.makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObjectStatus({
      group: 'it.maestro.dev', version: 'v1', namespace: ns, plural: 'widgets', name: 'r',
      body: { status: { conditions: [{ type: 'External', status: 'True', reason: 'SetByTest', message: '', lastTransitionTime: new Date().toISOString() }] } },
    }, mergePatch);
    await widgets.patchSpec('r', { message: 'second', delayMs: 0 });
    const done = await eventually(async () => {
      const w = await widgets.get('r');
      const ready = widgets.ready(w);
      return ready?.status === 'True' && ready.observedGeneration === w.metadata?.generation && ready.message === 'message is second' ? w : undefined;
    }, { message: 'Ready for the second generation' });
    expect(done.metadata?.generation).to.equal(2);
    expect(done.status?.conditions?.map((c) => c.type).sort()).to.deep.equal(['External', 'Ready']);
    expect((await core.readNamespacedConfigMap({ name: 'r', namespace: ns })).data).to.deep.equal({ message: 'second' });
    const metrics = await scrape(operator.metricsUrl!);
    expect(metricValue(metrics, 'rest_client_requests_total', { code: '409' })).to.be.at.least(1);
  });

  it('runs the cleanup once on delete, then removes the finalizer so the object goes away', async () => {
    const ns = await plane.createNamespace('finalize');
    const widgets = new Widgets(plane.kubeConfig, ns);
    await operatorIn(ns);
    await widgets.create(widget(ns, 'f'));
    const ready = await widgets.waitReady('f');
    expect(ready.metadata?.finalizers).to.deep.equal(['it.maestro.dev/cleanup']);
    await widgets.delete('f');
    await eventually(async () => {
      try {
        await widgets.get('f');
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    }, { message: 'widget deleted' });
    expect(ledger.cleanups.get(`${ns}/f`)).to.equal(1);
  });

  it('restarted over converged parents, writes nothing but what drifted while it was down', async () => {
    const ns = await plane.createNamespace('restart');
    const widgets = new Widgets(plane.kubeConfig, ns);
    const first = await operatorIn(ns);
    const names = Array.from({ length: 12 }, (_, i) => `r${i}`);
    await Promise.all(names.map((n) => widgets.create(widget(ns, n, { message: `hi ${n}` }))));
    for (const name of names) await widgets.waitReady(name);
    await first.stop();

    // While no operator runs: someone edits a child the operator owns, and deletes another.
    await core.patchNamespacedConfigMap({ name: 'r0', namespace: ns, body: { data: { message: 'hand edit' } } }, mergePatch);
    await core.deleteNamespacedService({ name: 'r1', namespace: ns });
    const before = new Map(names.map((n) => [n, ledger.count(`${ns}/${n}`)]));

    const second = await operatorIn(ns);
    // Its first pass: every parent reconciled once, successfully.
    await eventually(async () => metricValue(await scrape(second.metricsUrl!), 'controller_runtime_reconcile_total', { controller: 'widget', result: 'success' }) >= names.length,
      { message: 'first pass of the restarted operator' });
    expect(names.map((n) => ledger.count(`${ns}/${n}`) - before.get(n)!)).to.deep.equal(names.map(() => 1));
    await eventually(async () => (await core.readNamespacedConfigMap({ name: 'r0', namespace: ns })).data?.message === 'hi r0', { message: 'edited configmap restored' });
    await eventually(() => core.readNamespacedService({ name: 'r1', namespace: ns }), { message: 'deleted service recreated' });

    const metrics = await scrape(second.metricsUrl!);
    const writes = Object.fromEntries(['POST', 'PUT', 'PATCH', 'DELETE'].map((method) => [method, metricValue(metrics, 'rest_client_requests_total', { method })]));
    // Two applies for what drifted; no status, finalizer or child write for the converged rest.
    expect(writes).to.deep.equal({ POST: 0, PUT: 0, PATCH: 2, DELETE: 0 });
  });

  it('does not reconcile its own (or anyone\u2019s) status-only updates', async () => {
    const ns = await plane.createNamespace('quiet');
    const widgets = new Widgets(plane.kubeConfig, ns);
    const operator = await operatorIn(ns);
    await widgets.create(widget(ns, 'q'));
    await widgets.waitReady('q');
    const reconciles = ledger.count(`${ns}/q`);
    const adds = metricValue(await scrape(operator.metricsUrl!), 'workqueue_adds_total', { name: 'widget' });

    const custom = plane.kubeConfig.makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObjectStatus({
      group: 'it.maestro.dev', version: 'v1', namespace: ns, plural: 'widgets', name: 'q',
      body: { status: { phase: 'touched by someone else' } },
    }, mergePatch);
    // Barrier: a change to another object, reconciled after the status event was seen.
    await widgets.create(widget(ns, 'barrier'));
    await widgets.waitReady('barrier');
    expect(ledger.count(`${ns}/q`)).to.equal(reconciles);
    const after = metricValue(await scrape(operator.metricsUrl!), 'workqueue_adds_total', { name: 'widget' });
    // Only the barrier's own events (create, finalizer add, child adds) were enqueued, none for q.
    expect(after - adds).to.be.greaterThan(0);
    expect(ledger.count(`${ns}/barrier`)).to.be.at.least(1);
  });

  it('elects one leader among two instances; when it stops, the other takes over within the lease duration', async () => {
    const ns = await plane.createNamespace('leader');
    const widgets = new Widgets(plane.kubeConfig, ns);
    const leaderElection = { namespace: ns, leaseName: 'widget-operator', leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
    const first = await operatorIn(ns, { leaderElection });
    const second = await operatorIn(ns, { leaderElection });
    const leaders = [first, second].filter((o) => o.isLeader);
    expect(leaders).to.have.length(1);
    const leader = leaders[0]!;
    const follower = leader === first ? second : first;
    const leases = plane.kubeConfig.makeApiClient(CoordinationV1Api);
    expect((await leases.readNamespacedLease({ name: 'widget-operator', namespace: ns })).spec?.holderIdentity).to.equal(leader.identity);
    const m = await scrape(leader.metricsUrl!);
    expect(metricValue(m, 'leader_election_master_status', { name: 'widget-operator' })).to.equal(1);
    expect(metricValue(await scrape(follower.metricsUrl!), 'leader_election_master_status', { name: 'widget-operator' })).to.equal(0);

    await widgets.create(widget(ns, 'before'));
    await widgets.waitReady('before');
    expect(ledger.count(`${ns}/before`)).to.be.at.least(1);

    const stoppedAt = Date.now();
    await leader.stop();
    await eventually(() => follower.isLeader, { timeoutMs: 4000, intervalMs: 50, message: 'follower takes over' });
    expect(Date.now() - stoppedAt).to.be.lessThan(4000);
    await widgets.create(widget(ns, 'after'));
    await widgets.waitReady('after');
    expect((await leases.readNamespacedLease({ name: 'widget-operator', namespace: ns })).spec?.holderIdentity).to.equal(follower.identity);
  });

  it('records an Event for each change of a condition\u2019s status, but none for a condition that simply appears True', async () => {
    const ns = await plane.createNamespace('events');
    const widgets = new Widgets(plane.kubeConfig, ns);
    await operatorIn(ns);
    const eventsOf = async (name: string) => (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.name === name);
    await widgets.create(widget(ns, 'e'));
    await widgets.waitReady('e');
    await widgets.patchSpec('e', { message: 'fail' });
    const warning = await eventually(async () => (await eventsOf('e')).find((x) => x.reason === 'ReconcileError' && x.message?.startsWith('Ready:')), { message: 'a Warning event for Ready turning False' });
    expect(warning).to.include({ type: 'Warning', message: 'Ready: True -> False: WidgetConfigMap: boom for e' });
    expect(warning.source?.component).to.equal('widget-operator');
    await widgets.patchSpec('e', { message: 'fine again' });
    const normal = await eventually(async () => (await eventsOf('e')).find((x) => x.reason === 'Reconciled'), { message: 'a Normal event for Ready turning True' });
    expect(normal).to.include({ type: 'Normal', message: 'Ready: False -> True: message is fine again' });
    expect((await eventsOf('e')).filter((x) => x.reason === 'Reconciled'), 'no Event when Ready first appeared True').to.have.length(1);
  });

  it('logs every line of a reconcile with controller, namespace, name and reconcileID', async () => {
    const ns = await plane.createNamespace('logs');
    const widgets = new Widgets(plane.kubeConfig, ns);
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
    await operatorIn(ns, { logger });
    await widgets.create(widget(ns, 'l'));
    await widgets.waitReady('l');
    const reconcile = lines.filter((l) => l['name'] === 'l' && l['msg'] === 'reconciled');
    expect(reconcile.length).to.be.at.least(1);
    for (const line of reconcile) {
      expect(line).to.include({ controller: 'widget', namespace: ns, name: 'l' });
      expect(line['reconcileID']).to.match(/^[0-9a-f-]{36}$/);
    }
    const ids = new Set(lines.filter((l) => l['name'] === 'l').map((l) => l['reconcileID']));
    expect(lines.filter((l) => ids.has(l['reconcileID'])).every((l) => l['controller'] === 'widget' && l['namespace'] === ns)).to.equal(true);
  });

  it('re-reconciles every parent periodically when asked to (resync)', async () => {
    const ns = await plane.createNamespace('resync');
    const widgets = new Widgets(plane.kubeConfig, ns);
    await operatorIn(ns, { resyncPeriodMs: 300 });
    await widgets.create(widget(ns, 's'));
    await widgets.waitReady('s');
    const before = ledger.count(`${ns}/s`);
    await eventually(() => ledger.count(`${ns}/s`) >= before + 3, { timeoutMs: 10_000, message: 'three resyncs' });
  });

  it('serves /healthz and /readyz on the probe port, /metrics on its own port (plain HTTP with secure: false)', async () => {
    const ns = await plane.createNamespace('probes');
    const operator = await operatorIn(ns);
    const probes = operator.probesUrl!;
    const metricsUrl = operator.metricsUrl!;
    expect(new URL(probes).port).not.to.equal(new URL(metricsUrl).port);
    expect((await fetch(`${probes}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${probes}/readyz?verbose`);
    expect(ready.status).to.equal(200);
    expect(await ready.text()).to.contain('[+]informer-sync ok');
    expect((await fetch(`${probes}/metrics`)).status, 'no metrics on the probe port').to.equal(404);
    expect(metricsUrl).to.match(/^http:\/\//);
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(metrics).to.contain('controller_runtime_reconcile_total{controller="widget",result="success"}');
    expect((await fetch(`${metricsUrl}/healthz`)).status, 'no probes on the metrics port').to.equal(404);
  });
});
