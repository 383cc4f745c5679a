// Fault 4 (issue #10): the API server black-holed (half-open connections) for 90 s.
//
// Root cause (fixed in the one transport, lib/client/transport.ts): API requests had no
// deadline, so a request on a half-open pooled connection waited for undici's 300 s headers
// timeout (the heartbeat apply hung 88 s, the whole hole, holding the only worker). Now every
// request has a deadline (30 s by default), watches end after 90 s of silence and reconnect with
// jittered backoff, and closing the transport aborts what still hangs.
//
// Two replicas go through the same hole: one with leader election (it loses the Lease after the
// renew deadline, which cancels its reconciles: their calls end at once), one without (its calls
// can only end by their own deadline: the 30 s request deadline is what is measured there).
import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { startFaultProxy, type FaultProxy } from '../../../lib/testing/index.js';
import { faultParameter, faultsPlane, intervals, Objects, RawApi, Replica, report, type FixtureLine } from '../support/harness.js';

/**
 * The 90 s: longer than every client-side timeout in play (the 30 s request
 * deadline, and a watch's idle timeout, which must exceed the API server's ~60 s bookmark
 * interval), so each of them has to fire inside the hole.
 */
const holeMs = faultParameter('MAESTRO_FAULT_BLACKHOLE_MS', 90_000);
/** The default deadline of an API request. */
const requestDeadlineMs = 30_000;
/** How soon the watch must deliver again once traffic flows (the 45 s: client-go's 30 s backoff cap, jittered). */
const recoveryMs = 45_000;
const graceMs = 10_000;
/** Scheduling slack on a loaded 2-core machine. */
const slackMs = 5_000;
// The defaults users get, scaled down: a leader must notice it cannot renew.
const lease = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export const title = 'fault 4: API server black-holed: API calls fail within their deadline, the watch recovers once traffic flows, SIGTERM exits within the grace period';

/** What one replica's API calls and reconciles did during the hole. */
function inHole(replica: Replica, holeAt: number, flowAt: number) {
  // Every API call that overlapped the hole (and had time to hit its deadline inside it).
  const calls = replica.lines('api').filter((l: FixtureLine) => Number(l['startedAt']) < flowAt - requestDeadlineMs - slackMs && (Number(l['endedAt']) > holeAt));
  const durations = calls.map((l) => ({ ms: Math.round(Number(l['endedAt']) - Math.max(Number(l['startedAt']), holeAt)), ok: l['ok'] === true }));
  // A call that never returns writes no line: find it as a reconcile that outlived the deadline.
  const all = intervals([replica]);
  const stalled = all.filter((i) => i.start < flowAt - requestDeadlineMs - slackMs && i.end > holeAt
    && i.end - Math.max(i.start, holeAt) > requestDeadlineMs + slackMs);
  return {
    calls: durations,
    failedWithinDeadline: durations.filter((c) => !c.ok && c.ms <= requestDeadlineMs + slackMs).length,
    slowestMs: durations.length ? Math.max(...durations.map((c) => c.ms)) : 0,
    late: durations.filter((c) => c.ms > requestDeadlineMs + slackMs),
    stalled,
    startedInHole: all.filter((i) => i.start >= holeAt && i.start < flowAt).length,
  };
}

export async function blackhole(): Promise<void> {
  const { plane } = await faultsPlane();
  const replicas: Replica[] = [];
  let proxy: FaultProxy | undefined;
  const api = new RawApi(plane.kubeConfig); // the test's own access does not go through the proxy
  try {
    const ns = await plane.createNamespace('fault4');
    const nsAlone = await plane.createNamespace('fault4-alone');
    const tasks = new Objects(api, ns);
    const tasksAlone = new Objects(api, nsAlone);
    proxy = await startFaultProxy({ target: plane.server });
    const leader = new Replica('fault4', proxy.kubeConfig(await plane.userKubeConfig('fault4-operator', ['system:masters'])), {
      FAULT_NAMESPACES: ns, FAULT_LEASE: JSON.stringify(lease), FAULT_GRACE_MS: String(graceMs), FAULT_NAME: 'fault4-operator',
    }, { restart: true });
    const alone = new Replica('fault4-alone', proxy.kubeConfig(await plane.userKubeConfig('fault4-alone-operator', ['system:masters'])), {
      FAULT_NAMESPACES: nsAlone, FAULT_GRACE_MS: String(graceMs), FAULT_NAME: 'fault4-alone-operator',
    }, { restart: true });
    replicas.push(leader, alone);
    // A Task that writes to the API every 2 s: API calls keep being made during the hole.
    await tasks.create('beat', { message: 'beat', heartbeat: true, requeueAfterMs: 2_000 });
    await tasksAlone.create('beat', { message: 'beat', heartbeat: true, requeueAfterMs: 2_000 });
    await Promise.all([leader.start(), alone.start()]);
    await Promise.all([tasks.waitReady('beat', 60_000), tasksAlone.waitReady('beat', 60_000)]);

    // The hole.
    const holeAt = Date.now();
    proxy.blackhole();
    await delay(holeMs);
    const connectionsInHole = proxy.connectionLog().filter((c) => c.openedAt >= holeAt).length;
    const heldAtEnd = proxy.stats().held;
    proxy.pass();
    const flowAt = Date.now();

    // The watches recover: Tasks created now are seen and reconciled.
    await tasks.create('after-hole', { message: 'after the hole' });
    await tasksAlone.create('after-hole', { message: 'after the hole' });
    const recovered = await Promise.all([tasks, tasksAlone].map((t) => t.waitReady('after-hole', recoveryMs + 60_000).then(() => Date.now() - flowAt, () => undefined)));

    const seenLeader = inHole(leader, holeAt, flowAt);
    const seenAlone = inHole(alone, holeAt, flowAt);

    // SIGTERM in a black hole: shutdown must not wait on a dead connection.
    await leader.current.waitForLog({ fx: 'ready' }, { timeoutMs: 60_000 }).catch(() => undefined);
    proxy.blackhole();
    const termAt = Date.now();
    const proc = leader.current;
    leader.kill('SIGTERM');
    const exit = await proc.waitForExit(graceMs + 60_000).catch(() => undefined);
    const exitMs = exit ? exit.at - termAt : undefined;
    proxy.pass();

    const counts = (seen: ReturnType<typeof inHole>) => ({
      apiCalls: seen.calls.length, failedWithinDeadline: seen.failedWithinDeadline, slowestCallMs: seen.slowestMs,
      reconcilesStarted: seen.startedInHole, reconcilesStalled: seen.stalled.length,
    });
    report('fault4', {
      holeMs,
      withLease: counts(seenLeader),
      withoutLease: counts(seenAlone),
      connectionsOpenedInHole: connectionsInHole,
      heldAtEnd,
      watchRecoveredAfterMs: recovered.map((ms) => ms ?? 'never').join(','),
      sigtermExitMs: exitMs ?? 'not within grace+60s',
      exitCode: exit ? (exit.signal ?? exit.code) : 'none',
      unplannedExits: [...leader.unplannedExitCodes, ...alone.unplannedExitCodes].join(',') || 0,
    });

    for (const [who, seen] of [['with a Lease', seenLeader], ['without a Lease', seenAlone]] as const) {
      expect(seen.calls.length + seen.stalled.length, `${who}: API calls were made during the hole`).to.be.above(0);
      expect(seen.stalled.map((i) => `${i.key} for ${Number.isFinite(i.end) ? Math.round(i.end - Math.max(i.start, holeAt)) : 'ever'} ms`),
        `${who}: reconciles stalled in the hole beyond the request deadline`).to.deep.equal([]);
      expect(seen.late, `${who}: API calls that outlived the ${requestDeadlineMs} ms deadline in the hole (ms from the hole's start)`).to.deep.equal([]);
    }
    // Without a Lease nothing cancels the calls: they end by their deadline, and fail.
    expect(seenAlone.failedWithinDeadline, 'calls ended by the request deadline').to.be.above(0);
    expect(seenAlone.slowestMs, 'the deadline fired (not something sooner)').to.be.at.least(requestDeadlineMs - slackMs);
    for (const ms of recovered) {
      expect(ms, 'a new object Ready after traffic flows again').to.not.equal(undefined);
      expect(ms!, 'the watch recovers within 45 s').to.be.at.most(recoveryMs + slackMs);
    }
    expect(exitMs, 'the process exits after SIGTERM in a black hole').to.not.equal(undefined);
    expect(exitMs!, 'within the grace period').to.be.at.most(graceMs + slackMs);
  } finally {
    proxy?.pass();
    await Promise.all(replicas.map((r) => r.stop()));
    await proxy?.close();
    api.close();
  }
}
