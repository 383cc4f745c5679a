import { expect } from 'chai';
import type { CoreV1Event } from '@kubernetes/client-node';
import { COMBINED_PREFIX, EventCorrelator, type Correlation } from '../../lib/events/index.js';

let counter = 0;
function event(overrides: { object?: string; reason?: string; message?: string; type?: string } = {}): CoreV1Event {
  const object = overrides.object ?? 'web';
  return {
    metadata: { name: `${object}.${(counter++).toString(16)}`, namespace: 'sites' },
    involvedObject: { apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', name: object, namespace: 'sites', uid: `uid-${object}` },
    type: overrides.type ?? 'Warning',
    reason: overrides.reason ?? 'ReconcileError',
    message: overrides.message ?? 'image pull failed',
    source: { component: 'static-site-operator' },
    reportingComponent: 'static-site-operator',
    reportingInstance: 'pod-1',
  };
}

/** A correlator on a clock the test moves. */
function fixture(options: ConstructorParameters<typeof EventCorrelator>[0] = {}) {
  const clock = { now: Date.parse('2026-12-01T00:00:00Z') };
  return { clock, correlator: new EventCorrelator({ ...options, now: () => clock.now }) };
}

const names = (results: Correlation[]) => new Set(results.flatMap((r) => (r.action === 'skip' ? [] : [r.event.metadata.name!])));

describe('events: EventCorrelator', () => {
  it('counts identical events on one Event: a create, then patches of its count and lastTimestamp', () => {
    const { clock, correlator } = fixture();
    const first = correlator.correlate(event());
    expect(first.action).to.equal('create');
    if (first.action !== 'create') return;
    expect(first.event.count).to.equal(1);
    clock.now += 1000;
    const second = correlator.correlate(event());
    expect(second).to.deep.include({ action: 'patch', patch: { count: 2, lastTimestamp: '2026-12-01T00:00:01.000Z', message: 'image pull failed' } });
    if (second.action !== 'patch') return;
    expect(second.event.metadata.name).to.equal(first.event.metadata.name);
    expect(second.event.firstTimestamp).to.deep.equal(first.event.firstTimestamp);
    expect(correlator.correlate(event())).to.deep.include({ action: 'patch' });
  });

  it('combines similar events (changing message) after 10 into one Event that keeps counting', () => {
    const { clock, correlator } = fixture();
    const results: Correlation[] = [];
    for (let i = 0; i < 24; i++) {
      results.push(correlator.correlate(event({ message: `attempt ${i}: dial tcp 10.0.0.${i}:443: connection refused` })));
      clock.now += 1000;
    }
    expect(results.slice(0, 9).map((r) => r.action)).to.deep.equal(Array(9).fill('create'));
    const combined = results[9]!;
    expect(combined.action).to.equal('create');
    if (combined.action !== 'create') return;
    expect(combined.event.message).to.equal(`${COMBINED_PREFIX}attempt 9: dial tcp 10.0.0.9:443: connection refused`);
    for (const [i, r] of results.slice(10).entries()) {
      expect(r.action).to.equal('patch');
      if (r.action !== 'patch') return;
      expect(r.event.metadata.name).to.equal(combined.event.metadata.name);
      expect(r.patch.count).to.equal(i + 2);
      expect(r.patch.message).to.equal(`${COMBINED_PREFIX}attempt ${i + 10}: dial tcp 10.0.0.${i + 10}:443: connection refused`);
    }
    expect(names(results).size).to.equal(10);
  });

  it('does not combine similar events further apart than the interval, nor different reasons or objects', () => {
    const { clock, correlator } = fixture();
    for (let i = 0; i < 20; i++) {
      expect(correlator.correlate(event({ message: `m${i}` })).action, `spaced ${i}`).to.equal('create');
      clock.now += 11 * 60_000; // beyond 10 minutes, and refills the spam bucket
    }
    const { correlator: fresh } = fixture();
    for (let i = 0; i < 12; i++) {
      expect(fresh.correlate(event({ message: `m${i}`, reason: `Reason${i}` })).action).to.equal('create');
    }
  });

  it('lets a source write 25 Events about an object at once, then one per 5 minutes; other objects have their own budget', () => {
    const { clock, correlator } = fixture();
    const burst = Array.from({ length: 40 }, (_, i) => correlator.correlate(event({ reason: `Reason${i}` })));
    expect(burst.filter((r) => r.action === 'create')).to.have.length(25);
    expect(burst.slice(25).every((r) => r.action === 'skip')).to.equal(true);
    expect(correlator.correlate(event({ object: 'other', reason: 'Fresh' })).action).to.equal('create');
    clock.now += 299_000;
    expect(correlator.correlate(event({ reason: 'Later' })).action).to.equal('skip');
    clock.now += 1_000;
    // The dropped 'Later' was still counted (client-go's semantics): it comes as a patch of
    // count 2, which the recorder turns into a create when the Event does not exist.
    expect(correlator.correlate(event({ reason: 'Later' }))).to.deep.include({ action: 'patch', patch: { count: 2, lastTimestamp: new Date(clock.now).toISOString(), message: 'image pull failed' } });
    expect(correlator.correlate(event({ reason: 'Later2' })).action).to.equal('skip');
  });

  it('keeps counting while the spam filter drops writes: the next accepted patch carries the full count', () => {
    const { clock, correlator } = fixture({ burst: 2 });
    expect(correlator.correlate(event()).action).to.equal('create');
    expect(correlator.correlate(event())).to.deep.include({ action: 'patch' });
    for (let i = 0; i < 5; i++) expect(correlator.correlate(event()).action).to.equal('skip');
    clock.now += 300_000;
    expect(correlator.correlate(event())).to.deep.include({ action: 'patch', patch: { count: 8, lastTimestamp: new Date(clock.now).toISOString(), message: 'image pull failed' } });
  });

  it('keeps combined messages within the Event limit', () => {
    const { correlator } = fixture();
    let last: Correlation | undefined;
    for (let i = 0; i < 10; i++) last = correlator.correlate(event({ message: `${i}${'x'.repeat(1020)}` }));
    expect(last?.action).to.equal('create');
    if (last?.action !== 'create') return;
    expect(Buffer.byteLength(last.event.message!, 'utf8')).to.equal(1024);
    expect(last.event.message!.startsWith(COMBINED_PREFIX)).to.equal(true);
  });
});
