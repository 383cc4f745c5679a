/**
 * The contract between Maestro and the code users write: reconcilers, their results and
 * the status conditions they report. Mirrors the original `api` package.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Context } from '../context/index.js';
import type { Client } from '../client/client.js';
import { MaestroError } from '../errors/index.js';

/**
 * What a reconciler asks of the runtime after it ran (controller-runtime's `reconcile.Result`).
 * An empty result means "done until something changes".
 *
 * @example
 * ```ts
 * return {};                        // done
 * return { requeueAfter: 30_000 };  // look again in 30 s
 * return { requeue: true };         // look again soon (rate limited)
 * ```
 */
export interface Result {
  /** Reconcile again soon, through the work queue's rate limiter. */
  requeue?: boolean;
  /** Reconcile again after this many milliseconds (takes precedence over `requeue`). */
  requeueAfter?: number;
}

/** The status of a condition, as in `metav1.ConditionStatus`. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/**
 * A status condition, shaped exactly like Kubernetes' `metav1.Condition`.
 * `lastTransitionTime` is when `status` last changed (second precision on the wire).
 */
export interface Condition {
  /** CamelCase type, e.g. `Ready` or `example.com/Synced`. */
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable reason for the last transition. */
  reason: string;
  /** Human-readable details (may be empty). */
  message: string;
  /** The `metadata.generation` the condition was computed from. */
  observedGeneration?: number;
  lastTransitionTime: Date;
}

/**
 * A condition to record with `State.addCondition`: `message` may be omitted,
 * `observedGeneration` defaults to the parent's generation and `lastTransitionTime`
 * to now (when the status changes).
 */
export interface NewCondition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: Date | string;
}

/**
 * One step of reconciling a parent resource and its children. A conductor runs its
 * reconcilers in order; each reports conditions through the per-reconcile `State`
 * (`fetchState(ctx)`) and returns a {@link Result}. Throwing stops the conduct.
 *
 * @example
 * ```ts
 * class PodReconciler implements Reconciler<V1Deployment> {
 *   async reconcile(ctx: Context, client: Client, parent: V1Deployment): Promise<Result> {
 *     fetchState(ctx).addCondition({ type: 'PodReconciled', status: 'True', reason: 'PodsReconciled' });
 *     return {};
 *   }
 * }
 * ```
 */
export interface Reconciler<P extends KubernetesObject = KubernetesObject> {
  reconcile(ctx: Context, client: Client, parent: P): Promise<Result>;
}

/**
 * The cleanup step of a parent (a class decorated with `@Finalizer(name)`): called when
 * the parent is being deleted; the finalizer is removed once it resolves. Throwing
 * retries it with backoff, and the parent stays until it succeeds.
 *
 * It may run more than once (after a restart), so it must be idempotent. And it may get a
 * parent that is gone already, without `deletionTimestamp`: kube-apiserver deletes a parent
 * at once when the delete raced the finalizer being added (kubernetes#77988), and the runtime
 * then runs the cleanup for its last state. Do not write to the parent then; another parent
 * of the same name may exist by now, and is reconciled only after the cleanup (it waits
 * while the cleanup is retried). For such a parent a `TerminalError` ends the attempts (it
 * is logged), and one over the object limits gets no cleanup.
 *
 * @example
 * ```ts
 * @Parent(StaticSite) @Finalizer('example.com/cleanup')
 * class SiteCleanup implements Cleaner<StaticSite> {
 *   async cleanup(ctx: Context, client: Client, site: StaticSite): Promise<Result> { return {}; }
 * }
 * ```
 */
export interface Cleaner<P extends KubernetesObject = KubernetesObject> {
  cleanup(ctx: Context, client: Client, parent: P): Promise<Result>;
}

/**
 * A class that persists the conditions of each conduct on the parent (decorated with
 * `@StatusConditions()`), replacing the runtime's default handler.
 */
export interface HandlesStatusConditions<P extends KubernetesObject = KubernetesObject> {
  handleStatusConditions(ctx: Context, client: Client, parent: P, conditions: Condition[]): Promise<void>;
}

/**
 * An error that retrying cannot fix (controller-runtime's `reconcile.TerminalError`), such
 * as invalid user input. The conduct stops, `Ready=False` carries `reason` and the
 * message, and the runtime does not requeue until the parent changes.
 *
 * @example
 * ```ts
 * if (!site.spec.image) throw new TerminalError('MissingImage', 'spec.image is required');
 * ```
 */
export class TerminalError extends MaestroError {
  readonly code = 'Terminal';
  constructor(
    /** CamelCase reason for the `Ready=False` condition. */
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether `err` is (or was caused by) a {@link TerminalError}. */
export function isTerminal(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof TerminalError) return true;
  }
  return false;
}

export type { KubernetesObject };
export type { Client } from '../client/client.js';
export type { Context } from '../context/index.js';
