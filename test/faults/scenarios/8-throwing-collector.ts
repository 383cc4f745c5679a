// Fault 8 (issue #10): a Prometheus collector that throws.
//
// Root cause (fixed in lib/server's MetricsServer, which the Manager runs since #12): /metrics wrote
// its 200 header before collecting; when a collector threw, the catch's writeHead(500) threw
// ERR_HTTP_HEADERS_SENT inside the un-awaited handler: an unhandled rejection, exit 1 on the
// first scrape. Now it collects first, then writes 200 or 500.
import { expect } from 'chai';
import { faultsPlane, Objects, RawApi, Replica, report } from '../support/harness.js';

export const title = 'fault 8: a throwing Prometheus collector: /metrics answers 500 and the process lives and reconciles';

export async function throwingCollector(): Promise<void> {
  let replica: Replica | undefined;
  let api: RawApi | undefined;
  try {
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
  } finally {
    await replica?.stop();
    api?.close();
  }
}
