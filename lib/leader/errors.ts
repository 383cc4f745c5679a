import { MaestroError } from '../errors/index.js';

/**
 * Thrown by the {@link LeaderElector} constructor for options client-go would reject: an
 * empty lease name, namespace or identity, a non-positive duration, a lease duration not
 * longer than the renew deadline, or a renew deadline not longer than
 * `retryPeriodMs × 1.2` (the retry jitter).
 *
 * @example
 * ```ts
 * try { new LeaderElector(kc, { leaseName: 'x', namespace: 'ns', leaseDurationMs: 5_000, renewDeadlineMs: 5_000 }); }
 * catch (err) { if (err instanceof LeaderElectionConfigError) console.error(err.message); }
 * ```
 */
export class LeaderElectionConfigError extends MaestroError {
  readonly code = 'LeaderElectionConfig';
}

/**
 * Thrown by {@link LeaderElector.start} when the elector was already started or stopped.
 * An elector runs one election in its lifetime (like client-go's); create a new one to
 * compete again.
 *
 * @example
 * ```ts
 * await elector.stop();
 * elector = new LeaderElector(kubeConfig, options);
 * elector.start(callbacks);
 * ```
 */
export class LeaderElectorReuseError extends MaestroError {
  readonly code = 'LeaderElectorReuse';
  constructor(readonly lease: string) {
    super(`the leader elector of lease ${lease} was already started or stopped; an elector runs once`);
  }
}

/**
 * The API server refused the leader-election Lease requests (403 Forbidden) before
 * leadership was decided: RBAC does not let this identity get, create or update the
 * Lease, and retrying will not change that. {@link LeaderElector.whenDecided} rejects
 * with it.
 *
 * @example
 * ```ts
 * try { await elector.whenDecided(); } catch (err) {
 *   if (err instanceof LeaseForbiddenError) console.error(`grant ${err.verb} on leases in ${err.namespace}`);
 * }
 * ```
 */
export class LeaseForbiddenError extends MaestroError {
  readonly code = 'LeaseForbidden';
  constructor(
    /** The Lease's namespace. */
    readonly namespace: string,
    /** The Lease's name. */
    readonly leaseName: string,
    /** What was refused: `get`, `create` or `update`. */
    readonly verb: string,
    /** The API server's message. */
    readonly apiMessage: string,
    options?: { cause?: unknown },
  ) {
    super(`may not ${verb} the leader-election Lease ${namespace}/${leaseName}: ${apiMessage}`, options);
  }
}
