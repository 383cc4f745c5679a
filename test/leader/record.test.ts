import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { expect } from 'chai';
import { LeaderElectionConfigError } from '../../lib/leader/index.js';
import { resolveOptions } from '../../lib/leader/options.js';
import { isLeaseValid, jittered, JITTER_FACTOR, leaseSpecFor, recordFromLease, recordKey } from '../../lib/leader/record.js';
import { FakeClock } from '../../lib/queue/index.js';

describe('leader election helpers', () => {
  describe('isLeaseValid', () => {
    it('keeps a lease valid for its duration after it was last seen to change, by the local clock', () => {
      const clock = new FakeClock(50_000);
      const observedAt = clock.now();
      clock.advance(14_999);
      expect(isLeaseValid(observedAt, 15, clock.now())).to.equal(true);
      clock.advance(1);
      expect(isLeaseValid(observedAt, 15, clock.now())).to.equal(false);
    });

    it('treats a lease without a duration as expired at once', () => {
      expect(isLeaseValid(1_000, 0, 1_000)).to.equal(false);
    });
  });

  describe('jittered', () => {
    it('stretches a wait by between 0 and 1.2 times itself, as client-go does', () => {
      expect(jittered(2_000, JITTER_FACTOR, () => 0)).to.equal(2_000);
      expect(jittered(2_000, JITTER_FACTOR, () => 0.5)).to.equal(3_200);
      expect(jittered(2_000, JITTER_FACTOR, () => 0.999_999)).to.be.closeTo(4_400, 0.01);
    });
  });

  describe('the Lease record', () => {
    it('reads MicroTime strings as the server sends them and missing fields as empty', () => {
      const lease: V1Lease = {
        spec: { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 2, renewTime: '2025-01-02T03:04:05.123456Z' as unknown as V1MicroTime },
      };
      expect(recordFromLease(lease)).to.deep.equal({
        holderIdentity: 'a', leaseDurationSeconds: 15, leaderTransitions: 2, acquireTime: undefined, renewTime: Date.parse('2025-01-02T03:04:05.123Z'),
      });
      expect(recordFromLease({})).to.deep.equal({ holderIdentity: '', leaseDurationSeconds: 0, leaderTransitions: 0, acquireTime: undefined, renewTime: undefined });
    });

    it('writes timestamps as MicroTime, which the API server requires', () => {
      const spec = leaseSpecFor({ holderIdentity: 'a', leaseDurationSeconds: 3, acquireTime: 0, renewTime: 1_500, leaderTransitions: 1 });
      expect(spec.renewTime).to.be.instanceOf(V1MicroTime);
      expect(JSON.parse(JSON.stringify(spec))).to.deep.equal({
        holderIdentity: 'a', leaseDurationSeconds: 3, leaseTransitions: 1, acquireTime: '1970-01-01T00:00:00.000000Z', renewTime: '1970-01-01T00:00:01.500000Z',
      });
    });

    it('notices a renewal by any change of the election fields, to the microsecond', () => {
      const at = (renewTime: string): V1Lease => ({ spec: { holderIdentity: 'a', renewTime: renewTime as unknown as V1MicroTime } });
      expect(recordKey(at('2025-01-02T03:04:05.123456Z'))).to.equal(recordKey(at('2025-01-02T03:04:05.123456Z')));
      expect(recordKey(at('2025-01-02T03:04:05.123456Z'))).not.to.equal(recordKey(at('2025-01-02T03:04:05.123457Z')));
    });
  });

  describe('options', () => {
    it('defaults to client-go timings, a unique identity and releasing on stop', () => {
      const a = resolveOptions({ leaseName: 'lock', namespace: 'ns' });
      const b = resolveOptions({ leaseName: 'lock', namespace: 'ns' });
      expect(a).to.include({ leaseDurationMs: 15_000, leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, releaseOnCancel: true, requestTimeoutMs: 5_000 });
      expect(a.identity).to.match(/^.+_[0-9a-f-]{36}$/);
      expect(a.identity).not.to.equal(b.identity);
    });

    it('rounds the stored lease duration up to whole seconds, so others never wait less than intended', () => {
      expect(resolveOptions({ leaseName: 'l', namespace: 'n', leaseDurationMs: 2_500, renewDeadlineMs: 2_000, retryPeriodMs: 500 }).leaseDurationSeconds).to.equal(3);
    });

    it('rejects the combinations client-go rejects', () => {
      const bad = [
        { leaseName: '', namespace: 'n' },
        { leaseName: 'l', namespace: '' },
        { leaseName: 'l', namespace: 'n', identity: '' },
        { leaseName: 'l', namespace: 'n', leaseDurationMs: 10_000, renewDeadlineMs: 10_000 },
        { leaseName: 'l', namespace: 'n', renewDeadlineMs: 2_400, retryPeriodMs: 2_000 },
        { leaseName: 'l', namespace: 'n', retryPeriodMs: 0 },
        { leaseName: 'l', namespace: 'n', leaseDurationMs: Number.NaN },
      ];
      for (const options of bad) {
        expect(() => resolveOptions(options), JSON.stringify(options)).to.throw(LeaderElectionConfigError).with.property('code', 'LeaderElectionConfig');
      }
    });
  });
});
