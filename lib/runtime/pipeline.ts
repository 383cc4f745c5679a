/**
 * Where a reconcile runs: the one pipeline every reconcile of every parent goes through.
 *
 *     parent (as cached) ──▶ 0. limits  size and depth, walked without recursion
 *                                │          (over them: Ready=False ObjectTooLarge/ObjectTooDeep,
 *                                │           a Warning Event, nothing else runs)
 *                                ▼
 *                          a private copy (iterative: no depth can overflow the stack)
 *                                │
 *                                ▼
 *                            deleting? ──yes──▶ cleanups, then finalizers removed
 *                                    │ no      (gone with our finalizer on it: cleanups only)
 *                                    ▼
 *     1. validation      the parent class's constraints       (TerminalError InvalidSpec)
 *     2. finalizers      added before anything needs cleaning up
 *     3. steps           the user's reconcilers, in order, in one DI scope
 *     4. status          the user's handler or the default writer (also after a failure)
 *     5. events          one per condition transition; a Warning for a failure
 *
 * Stages 1-3 run as steps of one State (the conductor's step runner): the first failure
 * stops them and becomes `Ready=False` with its reason. A cancelled context (leadership
 * lost, shutdown) starts no further stage and skips status and events.
 *
 * Nothing an object contains can throw past the pipeline: the limits are checked before
 * anything walks the object, the copy is iterative, validation that throws (rather than
 * report violations) is `InvalidSpec` too, stored conditions are read leniently, and
 * condition messages are truncated to the API's limit by the status writer.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { TerminalError, type Condition, type Result } from '../api/index.js';
import { reasonOf } from '../api/names.js';
import type { Client } from '../client/client.js';
import type { StatusConditionsHandler } from '../conductor/conductor.js';
import { ReconcilerError, StatusConditionsHandlerError } from '../conductor/errors.js';
import { runSteps, type Step } from '../conductor/steps.js';
import { ContextCanceledError, DeadlineExceededError, type Context } from '../context/index.js';
import type { ParentSpec } from '../declare/specs.js';
import { describeError } from '../errors/index.js';
import type { EventRecorder } from '../events/index.js';
import { assertWithinLimits, deepCopy, type ObjectLimits } from '../limits/index.js';
import { withLogger, type Logger } from '../log/index.js';
import { conditionTransitions, readConditions } from '../state/conditions.js';
import { State } from '../state/index.js';
import { SpecValidation } from '../validation/index.js';
import { Finalizers } from './finalizers.js';
import type { ReconcileScope } from './injection.js';
import { defaultStatusHandler, type LiveReader } from './status.js';

/** One reconcile, as the controller hands it to the pipeline. */
export interface ReconcileRequest<P extends KubernetesObject = KubernetesObject> {
  /** The reconcile's context: cancelled when leadership is lost or the operator stops. */
  ctx: Context;
  /**
   * The parent as cached: shared, never modified by the pipeline, which checks it against
   * the object limits and then reconciles a private copy of it.
   */
  parent: P;
  /** The client for this parent (its `apply` sets the parent as controller owner). */
  client: Client;
  /** The reconcile's logger (with `controller`, `namespace`, `name`, `reconcileID`). */
  logger: Logger;
  /**
   * `parent` is the last state of a parent deleted with a finalizer of ours on it (see
   * `Finalizers.missedCleanup`): only its cleanups run.
   */
  gone?: boolean;
}

/** Opens the dependency-injection scope of one reconcile. */
export type ScopeFactory = (parent: KubernetesObject, client: Client, logger: Logger) => ReconcileScope;

/** What a pipeline needs besides its spec. */
export interface PipelineOptions {
  scopes: ScopeFactory;
  /** Re-reads a parent from the API server (the default status writer's conflict retries). */
  readLive: LiveReader;
  events: EventRecorder;
  /** Parents above these are not reconciled (default: `DEFAULT_OBJECT_LIMITS`, 3 MiB and 100 levels). */
  limits?: ObjectLimits;
  /** Finalizers no longer declared: removed from parents without cleanup. */
  retiredFinalizers?: readonly string[];
}

const ERROR_CONDITION = 'Ready';

/** Whether an error means the reconcile was interrupted (not failed). */
export const isInterruption = (err: unknown): boolean => err instanceof ContextCanceledError || err instanceof DeadlineExceededError;

/**
 * The reconcile pipeline of one parent kind (see the module documentation for its
 * stages). Built once per {@link ParentSpec}; holds no per-reconcile state.
 */
export class ReconcilePipeline<P extends KubernetesObject = KubernetesObject> {
  readonly #spec: ParentSpec<P>;
  readonly #options: PipelineOptions;
  readonly #validation: SpecValidation<P> | undefined;
  readonly #finalizers: Finalizers;
  readonly #defaultStatus: StatusConditionsHandler<KubernetesObject>;

  constructor(spec: ParentSpec<P>, options: PipelineOptions) {
    this.#spec = spec;
    this.#options = options;
    this.#validation = spec.validation ? new SpecValidation(spec.type, spec.validation.specOnly) : undefined;
    this.#finalizers = new Finalizers(spec.finalizers, options.retiredFinalizers);
    this.#defaultStatus = defaultStatusHandler(spec.resource, options.readLive);
  }

  /** The finalizers of this parent kind. */
  get finalizers(): Finalizers {
    return this.#finalizers;
  }

  /**
   * Runs one reconcile of `request.parent`.
   *
   * @returns what the steps (or cleanups) asked for.
   * @throws {@link ReconcilerError} when a stage failed (after its condition was written),
   *   {@link StatusConditionsHandlerError} when only the status write failed, or
   *   `ContextCanceledError` / `DeadlineExceededError` when interrupted.
   */
  async reconcile(request: ReconcileRequest<P>): Promise<Result> {
    const { client, logger } = request;
    const ctx = withLogger(request.ctx, logger);
    ctx.throwIfAborted();
    // 0. Before anything walks the object: over the limits, or impossible to copy, it is refused.
    const { parent, refusal } = this.#admit(request.parent);
    const scope = this.#options.scopes(parent, client, logger);
    try {
      if (refusal) {
        // A parent that is gone has no status to write the refusal to.
        if (request.gone) throw refusal;
        return await this.#conduct(ctx, scope, client, parent, logger, refusal);
      }
      if (parent.metadata?.deletionTimestamp || request.gone) {
        const deleting = parent as P & { metadata: NonNullable<P['metadata']> };
        return await this.#finalizers.finalize(deleting, client, (finalizer) => this.#cleanup(ctx, scope, client, parent, finalizer), logger, {
          readLive: (obj, signal) => this.#options.readLive(obj, signal ?? ctx.signal),
          gone: request.gone === true,
        });
      }
      return await this.#conduct(ctx, scope, client, parent, logger);
    } catch (err) {
      this.#recordFailure(parent, err);
      throw err;
    } finally {
      await scope.dispose();
    }
  }

  /**
   * The private copy the reconcile works on; or, for a parent that must not be reconciled
   * (above the limits, or not copyable), a stand-in with only what the status writer and
   * Events read (kind, metadata, conditions) and the terminal error that refuses it.
   */
  #admit(cached: P): { parent: P; refusal?: TerminalError } {
    try {
      assertWithinLimits(cached, this.#options.limits);
      return { parent: deepCopy(cached) };
    } catch (err) {
      const refusal = err instanceof TerminalError ? err : new TerminalError('InvalidObject', `the object cannot be copied: ${describeError(err)}`, { cause: err });
      const source = cached as KubernetesObject & { status?: { conditions?: unknown; observedGeneration?: unknown } };
      const conditions = source.status?.conditions;
      const standIn = {
        apiVersion: source.apiVersion,
        kind: source.kind,
        metadata: deepCopy(source.metadata),
        status: {
          ...(Array.isArray(conditions) ? { conditions: deepCopy(conditions as unknown[]) } : {}),
          ...(source.status?.observedGeneration === undefined ? {} : { observedGeneration: source.status.observedGeneration }),
        },
      };
      return { parent: standIn as unknown as P, refusal };
    }
  }

  async #cleanup(ctx: Context, scope: ReconcileScope, client: Client, parent: P, finalizer: string): Promise<Result> {
    const cleaner = this.#spec.cleaners.find((c) => c.finalizer === finalizer);
    if (!cleaner) return {};
    ctx.throwIfAborted();
    return (await scope.resolve(cleaner.type, ctx).cleanup(ctx, client, parent)) ?? {};
  }

  async #conduct(ctx: Context, scope: ReconcileScope, client: Client, parent: P, logger: Logger, refusal?: TerminalError): Promise<Result> {
    const state = new State(parent, ctx);
    const steps: Step[] = [];
    if (refusal) {
      // A refused object: its failure is the only step, recorded and written like any other.
      steps.push({ name: 'ObjectLimits', run: () => Promise.reject(refusal) });
    } else {
      // 1. Validation: invalid input becomes Ready=False/InvalidSpec before any reconciler.
      const validation = this.#validation;
      if (validation) steps.push({ name: 'SpecValidation', run: () => validation.validate(parent) });
      // 2. Finalizers: after validation (an invalid object gets none), before anything that needs cleaning up.
      if (this.#finalizers.any) steps.push({ name: 'EnsureFinalizers', run: () => this.#finalizers.ensure(client, parent) });
      // 3. The user's reconcilers, each a fresh instance from this reconcile's scope.
      for (const step of this.#spec.steps) {
        steps.push({ name: step.name, run: (stepContext) => scope.resolve(step.type, stepContext).reconcile(stepContext, client, parent) });
      }
    }
    let result: Result = {};
    let failure: ReconcilerError | undefined;
    try {
      result = await runSteps(state, steps, { errorConditionType: ERROR_CONDITION, logger });
    } catch (err) {
      if (!(err instanceof ReconcilerError)) throw err;
      failure = err;
    }
    // 4. Status, also after a failure (with the conditions collected so far, the failure's included).
    const conditions = state.conditions();
    try {
      await this.#writeStatus(state.context, scope, client, parent, conditions);
    } catch (statusError) {
      const interrupted = state.context.err();
      if (interrupted) throw interrupted;
      if (!failure) throw new StatusConditionsHandlerError(statusError);
      failure.handlerError = statusError;
      logger.warn({ err: describeError(statusError) }, `status conditions handler failed while recording the failure of ${failure.reconciler}`);
      throw failure;
    }
    // 5. Events for what changed.
    this.#recordTransitions(parent, conditions);
    if (failure) throw failure;
    return result;
  }

  async #writeStatus(ctx: Context, scope: ReconcileScope, client: Client, parent: P, conditions: Condition[]): Promise<void> {
    const handler = this.#spec.statusHandler;
    if (handler) await scope.resolve(handler.type, ctx).handleStatusConditions(ctx, client, parent, conditions);
    else await this.#defaultStatus(ctx, client, parent, conditions);
  }

  /**
   * Events for condition changes: a status that changed, or a condition that appears False
   * or Unknown. A condition appearing True is the expected course and records none (an
   * Event per new object would double a healthy operator's API writes).
   */
  #recordTransitions(parent: P, conditions: Condition[]): void {
    for (const t of conditionTransitions(readConditions(parent), conditions)) {
      if (t.previous === undefined && t.status === 'True') continue;
      const warning = t.status === 'False' && t.type === ERROR_CONDITION;
      const from = t.previous ? `${t.previous} -> ` : '';
      this.#options.events.event(parent, warning ? 'Warning' : 'Normal', t.reason, `${t.type}: ${from}${t.status}${t.message ? `: ${t.message}` : ''}`);
    }
  }

  /** A Warning Event for a failed reconcile (none for an interrupted one), with the reason the failure condition got. */
  #recordFailure(parent: P, err: unknown): void {
    if (isInterruption(err)) return;
    const cause = err instanceof ReconcilerError ? err.cause : err;
    this.#options.events.event(parent, 'Warning', reasonOf(cause) ?? 'ReconcileError', describeError(err));
  }
}
