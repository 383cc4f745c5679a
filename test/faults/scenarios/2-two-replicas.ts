// Fault 2 (issue #10): two operator processes on one Lease, the Lease taken over by patching its holder.
//
// Root cause (fixed in the leadership lifecycle, lib/runtime/terms.ts): a replica that regained
// the Lease while its controllers still drained never reconciled again: onStoppedLeading fired
// controller.stop() without awaiting it, the elector competed at once, controller.start()
// returned early while the drain ran, and when the drain ended the controller stayed stopped.
// Now the elector awaits the end of every worker of the lost term before competing again.
import { expect } from 'chai';
import { eventually, runKubectl } from '../../../lib/testing/index.js';
import {
  describeOverlap, faultsPlane, intervals, Objects, overlaps, RawApi, Replica, report, type FixtureLine,
} from '../support/harness.js';

const lease = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
const takeovers = 2;

/** A MicroTime as the API server writes it. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export const title = 'fault 2: two replicas on one Lease, the Lease taken over: never has one key in flight in both processes at once';

export async function twoReplicas(): Promise<void> {
  const replicas: Replica[] = [];
  let api: RawApi | undefined;
  try {
    const { plane } = await faultsPlane();
    const ns = await plane.createNamespace('fault2');
    api = new RawApi(plane.kubeConfig);
    const tasks = new Objects(api, ns);
    // Slow reconciles that requeue at once: every key is nearly always in flight or waiting.
    for (let i = 0; i < 8; i++) await tasks.create(`key-${i}`, { message: `key ${i}`, delayMs: 2_000, requeueAfterMs: 100 });

    const env = { FAULT_NAMESPACES: ns, FAULT_CONCURRENCY: '2', FAULT_LEASE: JSON.stringify(lease), FAULT_NAME: 'fault2-operator' };
    const kubeConfig = await plane.userKubeConfig('fault2-operator', ['system:masters']);
    const a = new Replica('fault2-a', kubeConfig, env, { restart: true });
    const b = new Replica('fault2-b', kubeConfig, env, { restart: true });
    replicas.push(a, b);
    await a.start();
    await a.current.waitForLog({ fx: 'start' }, { timeoutMs: 60_000 });
    await b.start();
    await b.ready();

    const holders: string[] = [];
    const handoverMs: number[] = [];
    let stalled: unknown;
    for (let round = 1; round <= takeovers && !stalled; round++) {
      // Someone else takes the Lease (as `kubectl patch` by an admin, or a third replica would).
      const patchedAt = Date.now();
      const at = microTime(patchedAt);
      await runKubectl(['patch', 'lease', 'fault2-operator', '-n', ns, '--type', 'merge', '-p',
        JSON.stringify({ spec: { holderIdentity: `intruder-${round}`, acquireTime: at, renewTime: at, leaseDurationSeconds: lease.leaseDurationMs / 1000 } })],
      { kubeconfig: plane.kubeconfigPath });
      // After the intruder's Lease expires, one replica leads again and works.
      const resumed = await eventually<FixtureLine>(() => {
        const leads = [...a.lines('leader'), ...b.lines('leader')].filter((l: FixtureLine) => l['leading'] === true && l.at > patchedAt);
        const first = leads[0];
        if (!first) return undefined;
        const starts = [...a.lines('start'), ...b.lines('start')].filter((l) => l.proc === first.proc && l.at > first.at);
        return starts.length >= 2 ? first : undefined;
      }, { timeoutMs: 60_000, intervalMs: 200, message: `round ${round}: a replica leads again and reconciles` }).catch((err: unknown) => {
        stalled = err;
        return undefined;
      });
      if (!resumed) break;
      holders.push(resumed.proc);
      handoverMs.push(Math.round(resumed.at - patchedAt));
    }

    await Promise.all(replicas.map((r) => r.stop()));
    const all = intervals(replicas);
    const across = overlaps(all);
    const within = overlaps(all, true);
    const perProcess: Record<string, number> = {};
    for (const i of all) perProcess[i.proc] = (perProcess[i.proc] ?? 0) + 1;
    report('fault2', {
      reconciles: all.length,
      perProcess,
      takeovers,
      newHolders: holders.join(','),
      leaderAgainAfterPatchMs: handoverMs.join(','),
      overlapsAcrossProcesses: across.length,
      overlapsWithinProcess: within.length,
      stalledInRound: stalled ? holders.length + 1 : 'no',
      unplannedExits: [...a.unplannedExitCodes, ...b.unplannedExitCodes].join(',') || 0,
    });
    expect(stalled, 'after each takeover a replica leads and reconciles again').to.equal(undefined);
    expect(across.map(describeOverlap), 'keys in flight in two processes at once').to.deep.equal([]);
    expect(within.map(describeOverlap), 'keys in flight twice in one process').to.deep.equal([]);
  } finally {
    await Promise.all(replicas.splice(0).map((r) => r.stop()));
    api?.close();
  }
}
