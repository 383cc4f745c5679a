// API server restarts and expired watches, on a control plane of their own.
import { expect } from 'chai';
import { CoreV1Api } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/testing/index.js';
import { Widgets, startOperator, stopOperators } from '../support/operators.js';
import { widget, widgetCRD, widgetReconcilers } from '../support/widget-operator.js';

describe('Operator under API server faults', function () {
  this.timeout(180_000);
  let plane: ControlPlane;
  before(async () => {
    // Without the watch cache every watch reads etcd, so compaction makes old versions expire at once.
    plane = await startControlPlane({ watchCache: false });
    await plane.installCRDs([widgetCRD()]);
  });
  after(async () => { await plane?.stop(); });
  afterEach(() => stopOperators());

  const widgetInformer = (operator: Awaited<ReturnType<typeof startOperator>>) =>
    operator.manager.cache.all().find((i) => i.resource.kind === 'Widget')!;

  it('recovers its watches after the API server is stopped and restarted, and reconciles what changed meanwhile', async () => {
    const ns = await plane.createNamespace('restart');
    const widgets = new Widgets(plane.kubeConfig, ns);
    const operator = await startOperator(plane.kubeConfig, { reconcilers: widgetReconcilers, namespaces: [ns] });
    await widgets.create(widget(ns, 'one', { message: 'before' }));
    await widgets.waitReady('one');

    await plane.stopAPIServer();
    await plane.startAPIServer();
    await widgets.patchSpec('one', { message: 'after' });
    await widgets.create(widget(ns, 'two', { message: 'new' }));

    const one = await widgets.waitReady('one', 60_000);
    expect(one.metadata?.generation).to.equal(2);
    await widgets.waitReady('two', 60_000);
    const cm = await plane.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'one', namespace: ns });
    expect(cm.data).to.deep.equal({ message: 'after' });
    expect(widgetInformer(operator).stats.errors + widgetInformer(operator).stats.watches).to.be.greaterThan(1);
  });

  it('re-lists after its watch expired (410 Gone) and misses nothing', async () => {
    const ns = await plane.createNamespace('expired');
    const widgets = new Widgets(plane.kubeConfig, ns);
    const operator = await startOperator(plane.kubeConfig, { reconcilers: widgetReconcilers, namespaces: [ns] });
    await widgets.create(widget(ns, 'old', { message: 'v1' }));
    await widgets.waitReady('old');
    const informer = widgetInformer(operator);
    const listsBefore = informer.stats.lists;

    // Move etcd past the informer's resourceVersion, compact it away, and drop every watch.
    const core = plane.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { generateName: 'bump-' } } });
    await plane.compactEtcd();
    await plane.restartAPIServer();
    await widgets.patchSpec('old', { message: 'v2' });
    await widgets.create(widget(ns, 'new', { message: 'v1' }));

    await widgets.waitReady('new', 60_000);
    const old = await widgets.waitReady('old', 60_000);
    expect(old.metadata?.generation).to.equal(2);
    expect(informer.stats.expired).to.be.at.least(1);
    expect(informer.stats.lists).to.be.greaterThan(listsBefore);
  });
});
