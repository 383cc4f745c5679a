import { performance } from 'node:perf_hooks';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { expect } from 'chai';
import { LeaderElector, LeaderElectorReuseError } from '../../lib/leader/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { eventually } from '../support/wait.js';
import { Candidate, LeadershipTracker, note, readLease, RecordingLogger, TIMINGS } from './helpers.js';

const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = TIMINGS;

describe('leader election on a Lease (real API server)', () => {
  let plane: ControlPlane;
  let namespace: string;
  const candidates: Candidate[] = [];

  const candidate = (name: string, options: ConstructorParameters<typeof Candidate>[4] = {}, tracker?: LeadershipTracker): Candidate => {
    const c = new Candidate(plane.kubeConfig, namespace, 'operator-lock', name, options, tracker);
    candidates.push(c);
    return c;
  };
  const lease = () => readLease(plane.kubeConfig, namespace, 'operator-lock');
  /** Waits for two more renewals, so at least one comes from the periodic loop (the first follows acquisition at once). */
  const renewals = async () => {
    let seen = String((await lease()).spec?.renewTime);
    for (let i = 0; i < 2; i++) {
      const previous = seen;
      seen = await eventually(async () => {
        const now = String((await lease()).spec?.renewTime);
        return now !== previous ? now : undefined;
      }, { timeoutMs: 3 * retryPeriodMs + 2_000, intervalMs: 20, message: 'a renewal' });
    }
    return lease();
  };

  before(async () => {
    plane = await sharedControlPlane();
  });

  beforeEach(async () => {
    namespace = await testNamespace('leader');
  });

  afterEach(async () => {
    await Promise.all(candidates.splice(0).map((c) => c.elector.stop()));
  });

  it('lets a single candidate create the Lease, lead, renew and report itself as leader', async () => {
    const a = candidate('a').start();
    await a.elector.whenDecided();

    expect(a.elector.isLeader).to.equal(true);
    expect(a.startedAt).to.have.length(1);
    expect(a.elector.leader).to.equal(a.identity);
    expect(a.newLeaders).to.deep.equal([a.identity]);
    expect(await a.gauge()).to.equal(1);
    const created = await lease();
    expect(created.spec).to.include({ holderIdentity: a.identity, leaseDurationSeconds: 3, leaseTransitions: 0 });
    expect(created.spec?.acquireTime).to.be.a('string').that.matches(/\.\d{6}Z$/);

    // It keeps renewing: renewTime moves on while acquireTime stays.
    const renewed = await renewals();
    expect(renewed.spec).to.include({ holderIdentity: a.identity, acquireTime: created.spec?.acquireTime, leaseTransitions: 0 });
    expect(a.problems()).to.deep.equal([]);

    await a.elector.stop();
    expect(a.elector.isLeader).to.equal(false);
    expect(a.stoppedAt).to.have.length(1);
    expect(await a.gauge()).to.equal(0);
  });

  it('lets exactly one of two candidates lead, never both at once', async () => {
    const tracker = new LeadershipTracker();
    const a = candidate('a', {}, tracker).start();
    const b = candidate('b', {}, tracker).start();
    await Promise.all([a.elector.whenDecided(), b.elector.whenDecided()]);

    // Sample for several renew periods: at every moment exactly one leads, and it is the Lease's holder.
    let samples = 0;
    const until = performance.now() + 6 * retryPeriodMs;
    while (performance.now() < until) {
      const leaders = [a, b].filter((c) => c.elector.isLeader);
      expect(leaders, `leaders at sample ${samples}`).to.have.length(1);
      const holder = (await lease()).spec?.holderIdentity;
      // The holder may only be read as the current leader: leadership never moved.
      expect(holder).to.equal(leaders[0]!.identity);
      samples++;
    }
    expect(samples).to.be.greaterThan(5);
    expect(tracker.overlaps).to.equal(0);
    expect(a.startedAt.length + b.startedAt.length).to.equal(1);
    const [leader, follower] = a.elector.isLeader ? [a, b] : [b, a];
    expect(follower.elector.leader).to.equal(leader.identity);
    expect(follower.newLeaders).to.deep.equal([leader.identity]);
    expect(await follower.gauge()).to.equal(0);
    expect(await leader.gauge()).to.equal(1);
    expect([...a.problems(), ...b.problems()]).to.deep.equal([]);
  });

  it('hands over at once when the leader stops and releases the Lease, counting the transition', async () => {
    const a = candidate('a').start();
    await a.elector.whenDecided();
    const b = candidate('b').start();
    await b.elector.whenDecided();
    expect(b.elector.isLeader).to.equal(false);
    const before = await lease();
    expect(before.spec?.leaseTransitions).to.equal(0);

    const stopping = performance.now();
    await a.elector.stop();
    expect(a.stoppedAt).to.have.length(1);
    expect(a.stoppedAt[0]).to.be.at.most(performance.now());
    await eventually(() => b.elector.isLeader, { timeoutMs: 2 * leaseDurationMs, intervalMs: 10, message: 'b to lead' });
    const handover = performance.now() - stopping;

    // b took a free Lease at its next attempt (≤ 2.2 retry periods), not after the lease duration.
    note(`handover after release: ${handover.toFixed(0)} ms (lease ${leaseDurationMs} ms)`);
    expect(handover).to.be.lessThan(leaseDurationMs);
    const after = await lease();
    expect(after.spec).to.include({ holderIdentity: b.identity, leaseDurationSeconds: 3, leaseTransitions: 1 });
    expect(String(after.spec?.acquireTime)).not.to.equal(String(before.spec?.acquireTime));
    expect(b.newLeaders).to.deep.equal([a.identity, b.identity]);
    expect([...a.problems(), ...b.problems()]).to.deep.equal([]);
  });

  it('replaces a leader that vanished without releasing only after the Lease expires', async () => {
    const a = candidate('a', { releaseOnCancel: false }).start();
    await a.elector.whenDecided();
    const b = candidate('b').start();
    await b.elector.whenDecided();
    expect(b.elector.isLeader).to.equal(false);

    // A crash, as far as the Lease can tell: the loop ends and nothing is written.
    await a.elector.stop();
    const vanished = performance.now();
    expect((await lease()).spec?.holderIdentity).to.equal(a.identity);

    await eventually(() => b.elector.isLeader, { timeoutMs: 3 * leaseDurationMs, intervalMs: 10, message: 'b to take over' });
    const takeover = performance.now() - vanished;
    note(`takeover after expiry: ${takeover.toFixed(0)} ms (lease ${leaseDurationMs} ms)`);

    // a renewed at most one retry period (plus a request) before it vanished, and b waits a
    // full lease duration after it last saw the Lease change.
    expect(takeover).to.be.at.least(leaseDurationMs - retryPeriodMs - 250);
    expect(takeover).to.be.lessThan(leaseDurationMs + 2 * (1 + 1.2) * retryPeriodMs + 1_000);
    expect((await lease()).spec).to.include({ holderIdentity: b.identity, leaseTransitions: 1 });
  });

  it('makes a leader whose Lease was taken by someone else stop leading within the renew deadline, and never write over the new holder', async () => {
    const a = candidate('a').start();
    await a.elector.whenDecided();
    expect(a.elector.isLeader).to.equal(true);

    // Another party overwrites the holder (retrying if it races a renewal).
    const api = plane.kubeConfig.makeApiClient(CoordinationV1Api);
    const overwritten = await eventually(async () => {
      const current = await lease();
      const now = new V1MicroTime(Date.now());
      await api.replaceNamespacedLease({
        namespace, name: 'operator-lock',
        body: { ...current, spec: { holderIdentity: 'intruder', leaseDurationSeconds: 60, acquireTime: now, renewTime: now, leaseTransitions: 1 } },
      });
      return performance.now();
    }, { timeoutMs: 10_000, intervalMs: 10, message: 'the lease to be overwritten' });

    await eventually(() => a.stoppedAt.length === 1, { timeoutMs: 2 * renewDeadlineMs, intervalMs: 10, message: 'a to stop leading' });
    note(`stopped leading ${(a.stoppedAt[0]! - overwritten).toFixed(0)} ms after the overwrite (renew deadline ${renewDeadlineMs} ms)`);
    expect(a.stoppedAt[0]! - overwritten).to.be.lessThan(renewDeadlineMs);
    expect(a.elector.isLeader).to.equal(false);
    expect(a.elector.leader).to.equal('intruder');
    expect(a.newLeaders).to.deep.equal([a.identity, 'intruder']);
    expect(await a.gauge()).to.equal(0);

    // Stopping must not release a Lease that is no longer ours.
    await a.elector.stop();
    expect((await lease()).spec).to.include({ holderIdentity: 'intruder', leaseTransitions: 1 });
    expect(a.stoppedAt).to.have.length(1);
  });

  it('makes a leader that cannot reach the API server stop leading after the renew deadline, then lead again once it can', async function () {
    this.timeout(120_000);
    const a = candidate('a').start();
    await a.elector.whenDecided();
    expect(a.elector.isLeader).to.equal(true);

    await plane.stopAPIServer();
    try {
      await eventually(() => a.stoppedAt.length === 1, { timeoutMs: 2 * leaseDurationMs, intervalMs: 10, message: 'a to stop leading' });
      // The first failed renewal opens a renew-deadline window; leadership ends when it closes.
      const firstFailure = a.log.lines.find((l) => l.level === 'error' || l.level === 'warn');
      expect(firstFailure, 'a logged the failed renewal').to.not.equal(undefined);
      const held = a.stoppedAt[0]! - firstFailure!.at;
      note(`kept leading ${held.toFixed(0)} ms after the first failed renewal (renew deadline ${renewDeadlineMs} ms)`);
      expect(held).to.be.at.least(renewDeadlineMs - 1_000 - 100); // a request may take up to its 1 s timeout to fail
      expect(held).to.be.at.most(renewDeadlineMs + 300);
      expect(a.elector.isLeader).to.equal(false);
      expect(await a.gauge()).to.equal(0);
    } finally {
      await plane.startAPIServer();
    }

    // Unlike controller-runtime, the elector keeps competing, and the Lease still names it.
    await eventually(() => a.elector.isLeader, { timeoutMs: 30_000, message: 'a to lead again' });
    expect(a.startedAt).to.have.length(2);
    expect((await lease()).spec).to.include({ holderIdentity: a.identity, leaseTransitions: 0 });
  });

  it('waits for an asynchronous onStoppedLeading before releasing the Lease on stop', async () => {
    let finishStopping!: () => void;
    let stoppedLeading = false;
    const elector = new LeaderElector(plane.kubeConfig, { leaseName: 'operator-lock', namespace, ...TIMINGS });
    elector.start({
      onStartedLeading() {},
      onStoppedLeading: () => {
        stoppedLeading = true;
        return new Promise<void>((resolve) => (finishStopping = resolve));
      },
    });
    await elector.whenDecided();
    let stopped = false;
    const stopping = elector.stop().then(() => (stopped = true));
    await eventually(() => stoppedLeading, { timeoutMs: 5_000, intervalMs: 10, message: 'onStoppedLeading to be called' });

    // The controllers are still winding down: the Lease stays ours, so no successor starts yet.
    expect((await lease()).spec?.holderIdentity).to.equal(elector.identity);
    expect(stopped).to.equal(false);
    finishStopping();
    await stopping;
    expect((await lease()).spec).to.include({ holderIdentity: '', leaseDurationSeconds: 1 });
  });

  it('keeps leading when a callback throws, logging the error', async () => {
    const logger = new RecordingLogger();
    const elector = new LeaderElector(plane.kubeConfig, { leaseName: 'operator-lock', namespace, ...TIMINGS }, { logger });
    elector.start({
      // Typed as returning void, but an async callback must not become an unhandled rejection.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a callback that rejects, which the elector must survive
      onStartedLeading: async () => { throw new Error('controllers failed to start'); },
      onStoppedLeading: () => Promise.reject(new Error('controllers failed to stop')),
      onNewLeader: () => { throw new Error('listener broke'); },
    });
    try {
      await elector.whenDecided();
      expect(elector.isLeader).to.equal(true);
      // Still renewing afterwards.
      await renewals();
      expect(elector.isLeader).to.equal(true);
    } finally {
      await elector.stop();
    }
    const errors = logger.lines.filter((l) => l.level === 'error').map((l) => `${l.message}: ${(l.fields as { err?: string }).err}`);
    expect(errors).to.have.members([
      'onNewLeader failed: listener broke', 'onStartedLeading failed: controllers failed to start', 'onStoppedLeading failed: controllers failed to stop',
    ]);
    expect((await lease()).spec?.holderIdentity).to.equal('');
  });

  it('runs an elector once: start after start or stop is refused', async () => {
    const a = candidate('a').start();
    expect(() => a.start()).to.throw(LeaderElectorReuseError);
    await a.elector.stop();
    const fresh = new LeaderElector(plane.kubeConfig, { leaseName: 'x', namespace, ...TIMINGS });
    await fresh.stop();
    expect(() => fresh.start({ onStartedLeading() {}, onStoppedLeading() {} })).to.throw(LeaderElectorReuseError);
    await fresh.whenDecided(); // resolves although it never competed
  });
});
