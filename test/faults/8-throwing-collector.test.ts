// Fault 8 (issue #10): a Prometheus collector that throws.
import { expect } from 'chai';
import { faultsPlane, Objects, RawApi, Replica, report } from './support/harness.js';

describe('fault 8: a throwing Prometheus collector', function () {
  this.timeout(120_000);
  let replica: Replica | undefined;
  let api: RawApi | undefined;
  afterEach(async () => {
    await replica?.stop();
    api?.close();
  });

  // Fixed by lib/server's MetricsServer (wired into the Manager for #12), which collects before it writes
  // any header: the old server wrote 200 first, and the 500 after a throwing collector crashed the process.
  it('answers /metrics with 500 and keeps the process alive and reconciling', async () => {
    const { plane } = await faultsPlane();
    const ns = await plane.createNamespace('fault8');
    api = new RawApi(plane.kubeConfig);
    const tasks = new Objects(api, ns);
    replica = new Replica('fault8', await plane.userKubeConfig('fault8-operator', ['system:masters']), {
      FAULT_NAMESPACES: ns, FAULT_THROWING_COLLECTOR: '1',
    });
    await replica.start();
    const ready = await replica.ready();
    const url = String(ready['url']);

    const statuses: Array<number | string> = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(await fetch(`${url}/metrics`).then((r) => r.text().then(() => r.status), (err: unknown) => `error: ${String(err)}`));
    }
    const healthz = await fetch(`${String(ready['probesUrl'])}/healthz`).then((r) => r.status, (err: unknown) => `error: ${String(err)}`);
    let reconciled = true;
    await tasks.create('after-scrape', { message: 'still working' });
    await tasks.waitReady('after-scrape', 60_000).catch(() => { reconciled = false; });
    report('fault8', {
      metricsStatuses: statuses.join(','),
      healthz,
      reconciledAfterScrape: reconciled,
      exited: replica.current.exit ? (replica.current.exit.signal ?? replica.current.exit.code) : 'no',
    });

    expect(statuses).to.deep.equal([500, 500, 500]);
    expect(healthz).to.equal(200);
    expect(replica.current.running, 'the process lives').to.equal(true);
    expect(reconciled, 'the operator still reconciles').to.equal(true);
  });
});
