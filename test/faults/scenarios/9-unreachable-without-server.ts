// Fault 9 (found while building the suite): the API server unreachable, the operator run without its HTTP server.
//
// Root cause (fixed in Manager.start, lib/runtime/manager.ts): with `server: false` nothing kept
// the event loop alive once start() resolved: the informers' reconnect timers and the elector's
// are unref'd. When the watches failed the process ended with exit code 0 within a second, and a
// Deployment would restart it as if it had succeeded. Now a started manager holds a timer from
// start() to stop().
import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { faultParameter, faultsPlane, Objects, RawApi, Replica, report } from '../support/harness.js';

const outageMs = faultParameter('MAESTRO_FAULT_OUTAGE_MS', 6_000);

export const title = 'fault 9: API server unreachable, no HTTP server: keeps running and retrying, and reconciles once it is back';

export async function unreachableWithoutServer(): Promise<void> {
  let replica: Replica | undefined;
  let api: RawApi | undefined;
  const { plane } = await faultsPlane();
  try {
    const ns = await plane.createNamespace('fault9');
    api = new RawApi(plane.kubeConfig);
    const tasks = new Objects(api, ns);
    await tasks.create('before', { message: 'before' });
    replica = new Replica('fault9', await plane.userKubeConfig('fault9-operator', ['system:masters']), { FAULT_NAMESPACES: ns, FAULT_SERVER: '0' });
    const proc = await replica.start();
    await tasks.waitReady('before', 60_000);

    const stopAt = Date.now();
    await plane.stopAPIServer();
    await delay(Math.max(0, outageMs - (Date.now() - stopAt))); // the outage is the fault
    const exitedDuringOutage = proc.exit;
    await plane.startAPIServer();
    let readyAfter = true;
    await tasks.create('after', { message: 'after' });
    await tasks.waitReady('after', 60_000).catch(() => { readyAfter = false; });
    report('fault9', {
      outageMs,
      exitedDuringOutage: exitedDuringOutage ? `code ${exitedDuringOutage.code ?? exitedDuringOutage.signal} after ${exitedDuringOutage.at - stopAt} ms` : 'no',
      reconciledAfter: readyAfter,
    });

    expect(exitedDuringOutage, 'the process exited while the API server was away').to.equal(undefined);
    expect(proc.running).to.equal(true);
    expect(readyAfter, 'a new object is reconciled after the outage').to.equal(true);
  } finally {
    await replica?.stop();
    api?.close();
    await plane.startAPIServer(); // in case the scenario failed while it was stopped
  }
}
