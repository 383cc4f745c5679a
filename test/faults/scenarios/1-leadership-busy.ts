// Fault 1 (issue #10): leadership lost and regained while busy.
//
// Root cause (fixed in the leadership lifecycle, lib/runtime/terms.ts): losing the Lease only
// started a drain (`void controller.stop(grace)`) while reconcile contexts derived from the
// operator's root context, cancelled by Operator.stop() alone; the drain still handed out keys
// already waiting, and the elector competed again at once, so a regained Lease met a controller
// whose start() was a no-op while the drain ran: it never reconciled again. Now a loss cancels
// every reconcile in flight at once, hands out no key, and the elector competes again only
// after every worker of the lost term finished.
import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { eventually } from '../../../lib/testing/index.js';
import { faultParameter, faultsPlane, intervals, Objects, RawApi, Replica, report, type FixtureLine } from '../support/harness.js';
import { FINALIZER, GROUP } from '../support/task-operator.js';

const lease = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
const outageMs = faultParameter('MAESTRO_FAULT_OUTAGE_MS', 6_000);
/** Scheduling slack on a loaded 2-core machine (the elector's timers and our sampling). */
const slackMs = 1_500;
const longTasks = ['a-long-0', 'a-long-1'];

export const title = 'fault 1: stops reconciling when the Lease is lost, cancels the reconciles in flight, and reconciles again after regaining it';

export async function leadershipBusy(): Promise<void> {
  const { plane } = await faultsPlane();
  let replica: Replica | undefined;
  const api = new RawApi(plane.kubeConfig);
  try {
    const ns = await plane.createNamespace('fault1');
    const tasks = new Objects(api, ns);
    // Tasks the operator already manages (its finalizer is on them), so that while the API
    // server is down every reconcile starts at once and spends its time in the reconciler:
    // new objects would fail straight away on the finalizer's patch, back off, and leave nothing
    // in flight when the Lease is lost. The issue's 8 busy Tasks take 1.5 s each; two more
    // ('a-long-*', first in the queue) take 12 s, longer than the outage takes to end the Lease
    // (renew deadline, plus the stop itself on a loaded machine), so reconciles are in flight at
    // the loss whatever the timing, and their cancellation is observed.
    const names = [...longTasks, ...Array.from({ length: 8 }, (_, i) => `busy-${i}`)];
    for (const name of names) {
      await api.ok('POST', tasks.path, {
        apiVersion: `${GROUP}/v1`, kind: 'Task',
        metadata: { name, namespace: ns, finalizers: [FINALIZER] },
        spec: { message: name, delayMs: longTasks.includes(name) ? 12_000 : 1_500 },
      });
    }

    replica = new Replica('fault1', await plane.userKubeConfig('fault1-operator', ['system:masters']), {
      FAULT_NAMESPACES: ns, FAULT_CONCURRENCY: '2', FAULT_LEASE: JSON.stringify(lease),
    }, { restart: true });
    const first = await replica.start();
    // Busy: the long reconciles in flight, more keys waiting.
    for (const name of longTasks) await first.waitForLog({ fx: 'start', key: `${ns}/${name}` }, { timeoutMs: 60_000 });

    const stoppingAt = Date.now();
    await plane.stopAPIServer();
    const stoppedAt = Date.now();
    // Leadership must end within the renew deadline (or the process exits, as controller-runtime's does).
    const sampled = await first.waitForLog({ fx: 'leader', leading: false }, { timeoutMs: lease.renewDeadlineMs + 15_000 })
      .then((l) => Number(l['at']), () => first.exit?.at);
    // The moment of the loss is the operator's own log line (written before the cancellation);
    // the 5 ms sampling of isLeader can only see it later, after the reconciles it cancelled ended.
    const logged = first.logs({ msg: 'lost leadership; cancelling the reconciles in flight' })[0]?.['time'];
    // That log line has pino's millisecond clock (Date.now()), the reconcile lines the fixture's
    // (performance.timeOrigin + now()): they can disagree by a few ms, enough to put the loss after
    // the aborts it caused. A reconcile's context is aborted only by the loss (the process is not
    // stopped here), so the first abort the loss caused also bounds its moment, on the fixture's clock.
    const aborts = first.logs((l) => l['fx'] === 'abort' && sampled !== undefined && Number(l['at']) <= sampled).map((l) => Number(l['at']));
    const lost = sampled === undefined ? undefined : Math.min(sampled, ...(typeof logged === 'number' ? [logged] : []), ...aborts);
    // The outage lasts its full duration whatever we observed (it is the fault, not a wait).
    await delay(Math.max(0, outageMs - (Date.now() - stoppingAt)));
    await plane.startAPIServer();
    const upAt = Date.now();

    let afterReadyMs: number | undefined;
    let allReady = false;
    try {
      await tasks.create('after', { message: 'after the outage', delayMs: 1_500 });
      await tasks.waitReady('after', 90_000);
      afterReadyMs = Date.now() - upAt;
      await eventually(async () => (await tasks.readyCount()) === names.length + 1, { timeoutMs: 90_000, message: `all ${names.length + 1} tasks Ready` });
      allReady = true;
    } catch { /* reported and asserted below */ }

    // What the first process did around the loss.
    const all = intervals([replica]).filter((i) => i.proc === first.name);
    const regained = replica.lines('leader').find((l: FixtureLine) => l.proc === first.name && l['leading'] === true && lost !== undefined && l.at > lost);
    // A start after the loss is a violation unless the operator led again by then (by its own account).
    const startedAfterLoss = lost === undefined ? [] : all.filter((i) => i.start > lost && i.leading !== true);
    const inFlightAtLoss = lost === undefined ? [] : all.filter((i) => i.start <= lost && i.end > lost);
    // Cancelled means: the context was aborted (or the process ended) promptly after the loss.
    const lateCancels = inFlightAtLoss.filter((i) => Math.min(i.abortAt ?? Infinity, first.exit?.at ?? Infinity) > lost! + slackMs);
    const lossAfterStopMs = lost === undefined ? undefined : Math.round(lost - stoppedAt);
    report('fault1', {
      reconciles: all.length,
      lossAfterStopMs,
      inFlightAtLoss: inFlightAtLoss.length,
      abortedInTime: inFlightAtLoss.length - lateCancels.length,
      slowestAbortMs: inFlightAtLoss.length ? Math.round(Math.max(...inFlightAtLoss.map((i) => (i.abortAt ?? Infinity) - lost!))) : 'none',
      startedAfterLoss: startedAfterLoss.length,
      regainedAfterUpMs: regained ? Math.round(regained.at - upAt) : 'never',
      newObjectReadyAfterUpMs: afterReadyMs ?? 'never',
      allReady,
      unplannedExits: replica.unplannedExitCodes.join(',') || 0,
    });

    expect(lost, 'leadership was lost while the API server was down').to.not.equal(undefined);
    expect(lossAfterStopMs!, 'leadership ends within the renew deadline').to.be.at.most(lease.renewDeadlineMs + lease.retryPeriodMs + slackMs);
    expect(inFlightAtLoss.length, 'reconciles were in flight at the loss (the scenario is busy)').to.be.above(0);
    expect(startedAfterLoss.map((i) => `${i.key} at +${Math.round(i.start - lost!)} ms`), 'reconciles started after leadership was lost').to.deep.equal([]);
    expect(lateCancels.map((i) => `${i.key} (${i.abortAt ? `aborted +${Math.round(i.abortAt - lost!)} ms` : 'never aborted'})`), 'in-flight reconciles not cancelled on the loss').to.deep.equal([]);
    expect(afterReadyMs, 'a new object becomes Ready after leadership is regained').to.not.equal(undefined);
    expect(allReady, 'every object converges').to.equal(true);
  } finally {
    await replica?.stop();
    api.close();
    await plane.startAPIServer(); // in case the scenario failed while it was stopped
  }
}
