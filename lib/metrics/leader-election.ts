import type { Registry } from 'prom-client';
import { gauge } from './families.js';

/**
 * What leader election reports: `leader_election_master_status{name}`, 1 while this
 * process holds the lease `name`, 0 otherwise.
 *
 * @example
 * ```ts
 * const leader = metrics.leaderElection('web-operator-lock');
 * leader.setLeader(true);
 * ```
 */
export interface LeaderElectionMetrics {
  setLeader(isLeader: boolean): void;
}

/** @internal The leader-election metric family of one registry (controller-runtime's pkg/metrics/leaderelection.go). */
export class LeaderElectionFamilies {
  readonly #status;

  constructor(registry: Registry) {
    this.#status = gauge(registry, {
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. '
        + '\'name\' is the string used to identify the lease. Please make sure to group by name.',
      labelNames: ['name'],
    });
  }

  /** The metrics of lease `name`, starting at 0: a replica is a backup until it acquires the lease. */
  leaderElection(name: string): LeaderElectionMetrics {
    const labels = { name };
    this.#status.inc(labels, 0);
    return { setLeader: (isLeader) => this.#status.set(labels, isLeader ? 1 : 0) };
  }
}
