import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { LeaderElectionConfigError } from './errors.js';
import { JITTER_FACTOR } from './record.js';

/**
 * Options of a {@link LeaderElector}. The defaults are client-go's and controller-runtime's
 * (15 s / 10 s / 2 s); they tolerate a replica's clock running up to 1.5× faster than
 * another's (`leaseDurationMs / renewDeadlineMs`).
 *
 * @example
 * ```ts
 * const options: LeaderElectionOptions = { leaseName: 'web-operator-lock', namespace: 'operators' };
 * ```
 */
export interface LeaderElectionOptions {
  /** The name of the `coordination.k8s.io/v1` Lease; it is created when missing. */
  leaseName: string;
  /** The namespace of the Lease. */
  namespace: string;
  /** This candidate's identity, unique among candidates. Default `${hostname}_${random UUID}`. */
  identity?: string;
  /**
   * How long a candidate waits, after it last saw the Lease change, before taking it over.
   * Stored in the Lease in whole seconds, rounded up. Default 15000.
   */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failing renewal before it gives leadership up. Default 10000. */
  renewDeadlineMs?: number;
  /** The pause between attempts to acquire (jittered up to 2.2×) or renew. Default 2000. */
  retryPeriodMs?: number;
  /**
   * Whether `stop()` releases a held Lease (empties its holder) so that another candidate
   * takes over at its next attempt rather than after `leaseDurationMs`. Default true.
   */
  releaseOnCancel?: boolean;
}

/** @internal {@link LeaderElectionOptions} with defaults applied and checked. */
export interface ResolvedLeaderElectionOptions {
  readonly leaseName: string;
  readonly namespace: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly releaseOnCancel: boolean;
  /** The timeout of each API request (client-go: half the renew deadline, at least 1 s). */
  readonly requestTimeoutMs: number;
}

/**
 * The default identity, `${hostname}_${random UUID}` (controller-runtime's form): unique
 * per process, yet it shows in `kubectl get lease` which pod holds the Lease.
 *
 * @example
 * ```ts
 * defaultIdentity(); // 'web-operator-7d9f8-abcde_0b6e5c1e-3f0a-4c57-9a43-2a4f0c5d8e21'
 * ```
 */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/**
 * @internal Applies defaults and rejects what client-go's `NewLeaderElector` rejects.
 *
 * @throws {LeaderElectionConfigError} for an invalid combination.
 */
export function resolveOptions(options: LeaderElectionOptions): ResolvedLeaderElectionOptions {
  const fail = (message: string): never => {
    throw new LeaderElectionConfigError(`leader election of lease ${options.namespace}/${options.leaseName}: ${message}`);
  };
  if (!options.leaseName) fail('leaseName must not be empty');
  if (!options.namespace) fail('namespace must not be empty');
  const identity = options.identity ?? defaultIdentity();
  if (identity === '') fail('identity must not be empty');

  const leaseDurationMs = options.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = options.retryPeriodMs ?? 2_000;
  for (const [name, value] of [['leaseDurationMs', leaseDurationMs], ['renewDeadlineMs', renewDeadlineMs], ['retryPeriodMs', retryPeriodMs]] as const) {
    if (!(Number.isFinite(value) && value > 0)) fail(`${name} must be a positive number of milliseconds, got ${value}`);
  }
  // A leader must give up before others may take over, and must get more than one try.
  if (leaseDurationMs <= renewDeadlineMs) fail(`leaseDurationMs (${leaseDurationMs}) must be greater than renewDeadlineMs (${renewDeadlineMs})`);
  if (renewDeadlineMs <= JITTER_FACTOR * retryPeriodMs) {
    fail(`renewDeadlineMs (${renewDeadlineMs}) must be greater than retryPeriodMs × ${JITTER_FACTOR} (${JITTER_FACTOR * retryPeriodMs})`);
  }
  return {
    leaseName: options.leaseName,
    namespace: options.namespace,
    identity,
    leaseDurationMs,
    // Rounded up, not down as client-go does: others must never wait less than we assume.
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
    renewDeadlineMs,
    retryPeriodMs,
    releaseOnCancel: options.releaseOnCancel ?? true,
    requestTimeoutMs: Math.max(1_000, renewDeadlineMs / 2),
  };
}
