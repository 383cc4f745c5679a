// Candidates that record what their LeaderElector tells them, for the integration tests.
import { performance } from 'node:perf_hooks';
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { LeaderElector, type LeaderElectionOptions } from '../../lib/leader/index.js';
import { Logger } from '../../lib/log/index.js';
import { Metrics } from '../../lib/metrics/index.js';
import { metricValue, parseMetrics } from '../support/wait.js';

/** Short durations so that expiry and failover take seconds (client-go's rules still hold: 3 > 2 > 0.5 × 1.2). */
export const TIMINGS = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 } as const;

/** Prints a measurement when MAESTRO_TEST_LOG is set (the timings the assertions bound). */
export function note(line: string): void {
  if (process.env['MAESTRO_TEST_LOG']) process.stderr.write(`      [leader] ${line}\n`);
}

export interface LogLine {
  level: string;
  message: string;
  fields: object;
  at: number;
}

/** A Logger that keeps every line (with its time), to assert on what the elector reported. */
export class RecordingLogger extends Logger {
  constructor(readonly lines: LogLine[] = [], private readonly bindings: object = {}) {
    super();
  }

  #record(level: string, fieldsOrMessage: object | string, message?: string): void {
    const [fields, text] = typeof fieldsOrMessage === 'string' ? [{}, fieldsOrMessage] : [fieldsOrMessage, message ?? ''];
    this.lines.push({ level, message: text, fields: { ...this.bindings, ...fields }, at: performance.now() });
  }

  trace(fields: object | string, message?: string): void { this.#record('trace', fields, message); }
  debug(fields: object | string, message?: string): void { this.#record('debug', fields, message); }
  info(fields: object | string, message?: string): void { this.#record('info', fields, message); }
  warn(fields: object | string, message?: string): void { this.#record('warn', fields, message); }
  error(fields: object | string, message?: string): void { this.#record('error', fields, message); }
  child(bindings: Record<string, unknown>): Logger {
    return new RecordingLogger(this.lines, { ...this.bindings, ...bindings });
  }
}

/** Counts moments at which more than one candidate of a group believed it led. */
export class LeadershipTracker {
  readonly leading = new Set<string>();
  overlaps = 0;

  started(identity: string): void {
    this.leading.add(identity);
    if (this.leading.size > 1) this.overlaps++;
  }

  stopped(identity: string): void {
    this.leading.delete(identity);
  }
}

/** One replica: an elector plus everything its callbacks, metrics and logs reported. */
export class Candidate {
  readonly elector: LeaderElector;
  readonly metrics = new Metrics();
  readonly log = new RecordingLogger();
  readonly startedAt: number[] = [];
  readonly stoppedAt: number[] = [];
  readonly newLeaders: string[] = [];

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    readonly leaseName: string,
    name: string,
    options: Partial<LeaderElectionOptions> = {},
    private readonly tracker = new LeadershipTracker(),
  ) {
    this.elector = new LeaderElector(
      kubeConfig,
      { leaseName, namespace, identity: `${name}_${process.pid}`, ...TIMINGS, ...options },
      { logger: this.log, metrics: this.metrics.leaderElection(leaseName) },
    );
  }

  get identity(): string {
    return this.elector.identity;
  }

  start(): this {
    this.elector.start({
      onStartedLeading: () => {
        this.startedAt.push(performance.now());
        this.tracker.started(this.identity);
      },
      onStoppedLeading: () => {
        this.stoppedAt.push(performance.now());
        this.tracker.stopped(this.identity);
      },
      onNewLeader: (identity) => this.newLeaders.push(identity),
    });
    return this;
  }

  /** `leader_election_master_status{name=<lease>}` as scraped. */
  async gauge(): Promise<number> {
    return metricValue(parseMetrics(await this.metrics.text()), 'leader_election_master_status', { name: this.leaseName });
  }

  /** Log lines at warn or error level: a healthy election has none. */
  problems(): string[] {
    return this.log.lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${l.level}: ${l.message} ${JSON.stringify(l.fields)}`);
  }
}

/** Reads the Lease straight from the API server. */
export function readLease(kubeConfig: KubeConfig, namespace: string, name: string): Promise<V1Lease> {
  return kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace, name });
}
