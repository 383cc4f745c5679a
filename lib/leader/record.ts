import { V1MicroTime, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';

/**
 * The election state a Lease's spec holds (client-go's `LeaderElectionRecord`), with its
 * timestamps as epoch milliseconds. An empty `holderIdentity` means nobody holds it.
 *
 * @example
 * ```ts
 * const record = recordFromLease(lease);
 * if (record.holderIdentity === '') console.log('the lease is free');
 * ```
 */
export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** When the current holder acquired the lease (the holder's wall clock). */
  acquireTime: number | undefined;
  /** When the current holder last renewed the lease (the holder's wall clock). */
  renewTime: number | undefined;
  leaderTransitions: number;
}

/** The retry jitter of client-go's leader election: waits are `retryPeriod × [1, 2.2)`. */
export const JITTER_FACTOR = 1.2;

function epochMs(time: unknown): number | undefined {
  // client-node types MicroTime fields as Date but hands them over as the server's strings.
  if (time instanceof Date) return time.getTime();
  if (typeof time === 'string' && time !== '') {
    const ms = Date.parse(time);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function rawTime(time: unknown): string {
  if (time instanceof Date) return time.toISOString();
  return typeof time === 'string' ? time : '';
}

/** The election record in `lease` (missing fields read as empty or zero, as in client-go). */
export function recordFromLease(lease: V1Lease): LeaderElectionRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: epochMs(spec.acquireTime),
    renewTime: epochMs(spec.renewTime),
    leaderTransitions: spec.leaseTransitions ?? 0,
  };
}

/**
 * A string that changes whenever the election fields of `lease` change, exact to the
 * server's microseconds: a candidate compares it between reads to notice that the holder
 * renewed (client-go compares the marshalled record the same way).
 */
export function recordKey(lease: V1Lease): string {
  const spec = lease.spec ?? {};
  return JSON.stringify([
    spec.holderIdentity ?? '', spec.leaseDurationSeconds ?? 0, rawTime(spec.acquireTime), rawTime(spec.renewTime), spec.leaseTransitions ?? 0,
  ]);
}

/** The Lease spec that stores `record` (MicroTime timestamps, as the API requires). */
export function leaseSpecFor(record: LeaderElectionRecord): V1LeaseSpec {
  const spec: V1LeaseSpec = {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaderTransitions,
  };
  if (record.acquireTime !== undefined) spec.acquireTime = new V1MicroTime(record.acquireTime);
  if (record.renewTime !== undefined) spec.renewTime = new V1MicroTime(record.renewTime);
  return spec;
}

/**
 * Whether a lease observed (changed) at `observedAt` is still valid at `now`, both read
 * from the candidate's own monotonic clock. Like client-go, this deliberately ignores the
 * record's `renewTime`, written by another machine's clock: only the fact that the record
 * changed matters, so clock skew between replicas cannot cause a premature takeover.
 *
 * @example
 * ```ts
 * isLeaseValid(1_000, 15, 15_999); // true
 * isLeaseValid(1_000, 15, 16_000); // false: expired
 * ```
 */
export function isLeaseValid(observedAt: number, leaseDurationSeconds: number, now: number): boolean {
  return observedAt + leaseDurationSeconds * 1000 > now;
}

/**
 * A wait of `ms` stretched by up to `maxFactor` (client-go's `wait.Jitter`):
 * `ms + random() × maxFactor × ms`, so candidates polling one lease drift apart.
 *
 * @example
 * ```ts
 * jittered(2_000, JITTER_FACTOR); // between 2000 and 4400
 * ```
 */
export function jittered(ms: number, maxFactor: number, random: () => number = Math.random): number {
  return ms + random() * maxFactor * ms;
}
