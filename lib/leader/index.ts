/**
 * Leader election on a `coordination.k8s.io/v1` Lease with client-go's semantics, so
 * that of several replicas of an operator only one runs its controllers at a time
 * (controller-runtime's `pkg/leaderelection`).
 *
 * @example
 * ```ts
 * const elector = new LeaderElector(kubeConfig, { leaseName: 'web-operator-lock', namespace: 'operators' });
 * elector.start({ onStartedLeading: () => manager.start(), onStoppedLeading: () => manager.stop() });
 * ```
 *
 * @module
 */
export { LeaderElector } from './elector.js';
export type { LeaderCallbacks, LeaderElectorDeps } from './elector.js';
export { defaultIdentity } from './options.js';
export type { LeaderElectionOptions } from './options.js';
export { LeaderElectionConfigError, LeaderElectorReuseError, LeaseForbiddenError } from './errors.js';
