import type { KubernetesObject } from '@kubernetes/client-node';
import type { Condition, Reconciler, Result } from '../api/index.js';
import type { Client } from '../client/client.js';
import { Context } from '../context/index.js';
import { Logger, loggerFrom, noopLogger, withLogger } from '../log/index.js';
import type { ResourceClass } from '../resources/index.js';
import { State } from '../state/index.js';
import {
  ConductorConfigurationError, InvalidParentError, ReconcilerError, StatusConditionsHandlerError,
} from './errors.js';
import { runSteps, type Step } from './steps.js';

export {
  ConductorConfigurationError, InvalidParentError, InvalidResultError, ReconcilerError, StatusConditionsHandlerError,
} from './errors.js';
export { mergeResults } from './steps.js';

/**
 * Persists the conditions a conduct collected on the parent. Called once per conduct,
 * also after a reconciler failed (with the conditions collected so far).
 */
export type StatusConditionsHandler<P extends KubernetesObject> = (
  ctx: Context,
  client: Client,
  parent: P,
  conditions: Condition[],
) => Promise<void>;

function nameOf(reconciler: Reconciler<never>, index: number): string {
  const name = (reconciler as object).constructor?.name;
  return name && name !== 'Object' ? name : `reconciler#${index}`;
}

/**
 * Runs the reconcilers of one parent type, in registration order, against a parent
 * object: the heart of Maestro (the original's `conductor.Conductor`).
 *
 * Semantics of {@link Conductor.conduct}:
 * - reconcilers run strictly one after another, each awaited before the next, with the
 *   context the previous one left in the State (`fetchState(ctx).updateContext`);
 * - results combine: any `requeue` requeues, the smallest `requeueAfter` wins;
 * - the first reconciler that throws stops the conduct: the error condition (by default
 *   `Ready=False`, reason taken from the error's `reason` or `ReconcileError`) is added,
 *   the status-conditions handler still receives the conditions collected so far, and
 *   `conduct` rejects with a {@link ReconcilerError} whose `cause` is the thrown value;
 * - when the context is cancelled or past its deadline, no further reconciler starts,
 *   the handler is not called, and `conduct` rejects with `ContextCanceledError` or
 *   `DeadlineExceededError`;
 * - the handler runs once per conduct; without one the conditions are discarded.
 *
 * A conductor holds no per-conduct state: it can conduct many parents concurrently,
 * and a failed conduct never affects the next.
 *
 * @example
 * ```ts
 * const conductor = forParent(V1Deployment).withClient(client).build();
 * conductor.register(new PodReconciler());
 * const result = await conductor.conduct(Context.background(), deployment);
 * ```
 */
export class Conductor<P extends KubernetesObject> {
  #reconcilers: ReadonlyArray<{ reconciler: Reconciler<P>; name: string }> = [];

  /** Prefer {@link forParent}, which checks the configuration. */
  constructor(
    /** The parent type this conductor reconciles. */
    readonly parentType: ResourceClass<P>,
    private readonly client: Client,
    private readonly baseContext: Context,
    private readonly logger: Logger,
    private readonly handler: StatusConditionsHandler<P> | undefined,
    private readonly errorConditionType: string | null,
  ) {}

  /**
   * Adds a reconciler after those already registered. Chainable. `options.name` names
   * it in errors and logs (default: its class name).
   */
  register(reconciler: Reconciler<P>, options: { name?: string } = {}): this {
    if (!reconciler || typeof reconciler.reconcile !== 'function') {
      throw new ConductorConfigurationError('register() needs an object with a reconcile(ctx, client, parent) method');
    }
    const name = options.name ?? nameOf(reconciler, this.#reconcilers.length);
    // Copy-on-write: a conduct in flight keeps the list it started with.
    this.#reconcilers = [...this.#reconcilers, { reconciler, name }];
    return this;
  }

  /** The registered reconcilers, in order. */
  reconcilers(): Reconciler<P>[] {
    return this.#reconcilers.map((r) => r.reconciler);
  }

  /** Runs every registered reconciler against `parent`; see the class documentation for the semantics. */
  async conduct(ctx: Context, parent: P): Promise<Result> {
    const client = this.client;
    if (parent === null || typeof parent !== 'object') {
      throw new InvalidParentError(`conduct() needs a parent ${this.parentType.name} object, got ${parent === null ? 'null' : typeof parent}`);
    }
    let runContext = ctx.merge(this.baseContext);
    runContext.throwIfAborted();
    if (this.logger !== noopLogger && loggerFrom(runContext) === noopLogger) runContext = withLogger(runContext, this.logger);
    const log = loggerFrom(runContext);
    const state = new State(parent, runContext);
    const steps = this.#reconcilers.map(({ reconciler, name }): Step => ({ name, run: (stepContext) => reconciler.reconcile(stepContext, client, parent) }));
    let result: Result;
    try {
      result = await runSteps(state, steps, { errorConditionType: this.errorConditionType, logger: log });
    } catch (error) {
      if (!(error instanceof ReconcilerError)) throw error;
      // The handler still receives the conditions collected so far, the failure's included.
      try {
        await this.handle(state, client, parent);
      } catch (handlerError) {
        error.handlerError = handlerError;
        log.warn({ err: handlerError }, `status conditions handler failed while recording the failure of ${error.reconciler}`);
      }
      throw error;
    }
    try {
      await this.handle(state, client, parent);
    } catch (cause) {
      const interrupted = state.context.err();
      if (interrupted) throw interrupted;
      throw new StatusConditionsHandlerError(cause);
    }
    return result;
  }

  private async handle(state: State, client: Client, parent: P): Promise<void> {
    if (this.handler) await this.handler(state.context, client, parent, state.conditions());
  }
}

/**
 * Configures a {@link Conductor}; start with {@link forParent}.
 *
 * @example
 * ```ts
 * const conductor = forParent(V1Deployment)
 *   .withClient(client)
 *   .withContext(ctx)
 *   .withLogger(logger)
 *   .withStatusConditionsHandler(async (ctx, client, deployment, conditions) => { ... })
 *   .build();
 * ```
 */
export class ConductorBuilder<P extends KubernetesObject> {
  #client: Client | undefined;
  #context: Context = Context.background();
  #logger: Logger = noopLogger;
  #handler: StatusConditionsHandler<P> | undefined;
  #errorConditionType: string | null = 'Ready';

  /** Prefer {@link forParent}, which checks the configuration. */
  constructor(readonly parentType: ResourceClass<P>) {}

  /** The client passed to reconcilers and the handler (required). */
  withClient(client: Client): this {
    this.#client = client;
    return this;
  }

  /** A base context for every conduct: its values are visible to reconcilers, and cancelling it stops every conduct. */
  withContext(ctx: Context): this {
    this.#context = ctx;
    return this;
  }

  /** The logger used by the conductor and offered to reconcilers through `loggerFrom(ctx)` (default: discard). */
  withLogger(logger: Logger): this {
    this.#logger = logger;
    return this;
  }

  /** Persists the collected conditions on the parent; without one they are discarded. */
  withStatusConditionsHandler(handler: StatusConditionsHandler<P>): this {
    this.#handler = handler;
    return this;
  }

  /**
   * The condition type set to `False` when a reconciler fails (default `Ready`), or
   * `null` to add no condition on failure.
   */
  withErrorConditionType(type: string | null): this {
    this.#errorConditionType = type;
    return this;
  }

  /** @throws {@link ConductorConfigurationError} when no client was given. */
  build(): Conductor<P> {
    if (!this.#client) {
      throw new ConductorConfigurationError(`conductor for ${this.parentType.name}: withClient(client) is required before build()`);
    }
    return new Conductor(this.parentType, this.#client, this.#context, this.#logger, this.#handler, this.#errorConditionType);
  }
}

/**
 * Starts building a conductor for a parent type (the original's `conductor.ForParent`).
 *
 * @example
 * ```ts
 * const conductor = forParent(V1Deployment).withClient(client).build().register(new PodReconciler());
 * ```
 */
export function forParent<P extends KubernetesObject>(parentType: ResourceClass<P>): ConductorBuilder<P> {
  if (typeof parentType !== 'function') {
    throw new ConductorConfigurationError('forParent() needs the parent class, e.g. forParent(V1Deployment)');
  }
  return new ConductorBuilder(parentType);
}
