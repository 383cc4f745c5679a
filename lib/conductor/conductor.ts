import type { KubernetesObject } from '@kubernetes/client-node';
import type { Condition, Reconciler, Result } from '../api/index.js';
import type { Client } from '../client/client.js';
import { Context } from '../context/index.js';
import { MaestroError, describeError } from '../errors/index.js';
import { Logger, loggerFrom, noopLogger, withLogger } from '../log/index.js';
import type { ResourceClass } from '../resources/index.js';
import { State } from '../state/index.js';

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

/** Thrown by {@link ConductorBuilder.build} for an incomplete configuration. */
export class ConductorConfigurationError extends MaestroError {
  readonly code = 'ConductorConfiguration';
}

/** Thrown by `conduct` when a reconciler failed; `cause` is what it threw. */
export class ReconcilerError extends MaestroError {
  readonly code = 'ReconcilerFailed';
  /** Set when the status-conditions handler also failed while recording this failure. */
  handlerError?: unknown;

  constructor(
    /** The failed reconciler's name (its class name). */
    readonly reconciler: string,
    /** Its position in registration order, from 0. */
    readonly index: number,
    cause: unknown,
  ) {
    super(`reconciler ${reconciler} failed: ${describeError(cause)}`, { cause });
  }
}

/** Thrown by `conduct` when the status-conditions handler failed after every reconciler succeeded. */
export class StatusConditionsHandlerError extends MaestroError {
  readonly code = 'StatusConditionsHandlerFailed';
  constructor(cause: unknown) {
    super(`status conditions handler failed: ${describeError(cause)}`, { cause });
  }
}

/** A reconciler returned something that is not a {@link Result}. */
export class InvalidResultError extends MaestroError {
  readonly code = 'InvalidResult';
}

/** `conduct` was called without a parent object. */
export class InvalidParentError extends MaestroError {
  readonly code = 'InvalidParent';
}

const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const EMPTY: Result = Object.freeze({});

function checkResult(value: unknown, reconciler: string): Result {
  if (value === undefined || value === null) return EMPTY;
  if (typeof value !== 'object') {
    throw new InvalidResultError(`reconciler ${reconciler} returned ${typeof value}; expected a Result such as {} or { requeueAfter: 5000 }`);
  }
  const { requeue, requeueAfter } = value as Result;
  if (requeue !== undefined && typeof requeue !== 'boolean') {
    throw new InvalidResultError(`reconciler ${reconciler} returned requeue=${String(requeue)}; expected a boolean`);
  }
  if (requeueAfter !== undefined && (typeof requeueAfter !== 'number' || !Number.isFinite(requeueAfter) || requeueAfter < 0)) {
    throw new InvalidResultError(`reconciler ${reconciler} returned requeueAfter=${String(requeueAfter)}; expected milliseconds >= 0`);
  }
  return value as Result;
}

/**
 * Combines the results of several reconcilers: any `requeue` requeues, and the
 * smallest positive `requeueAfter` wins (0 means "not set", as in controller-runtime).
 */
export function mergeResults(a: Result, b: Result): Result {
  const requeue = a.requeue === true || b.requeue === true;
  const after = [a.requeueAfter, b.requeueAfter].filter((ms): ms is number => ms !== undefined && ms > 0);
  const merged: Result = {};
  if (requeue) merged.requeue = true;
  if (after.length > 0) merged.requeueAfter = Math.min(...after);
  return merged;
}

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

  /** @internal Use {@link forParent}. */
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

  /**
   * Runs every registered reconciler against `parent`; see the class documentation for
   * the semantics. `options.client` replaces the builder's client for this conduct (the
   * operator runtime passes one bound to the parent, so `apply` can set owner references).
   */
  async conduct(ctx: Context, parent: P, options: { client?: Client } = {}): Promise<Result> {
    const client = options.client ?? this.client;
    if (parent === null || typeof parent !== 'object') {
      throw new InvalidParentError(`conduct() needs a parent ${this.parentType.name} object, got ${parent === null ? 'null' : typeof parent}`);
    }
    let runContext = ctx.merge(this.baseContext);
    runContext.throwIfAborted();
    if (this.logger !== noopLogger && loggerFrom(runContext) === noopLogger) runContext = withLogger(runContext, this.logger);
    const log = loggerFrom(runContext);
    const state = new State(parent, runContext);
    const reconcilers = this.#reconcilers;
    let result: Result = EMPTY;
    for (let index = 0; index < reconcilers.length; index++) {
      const { reconciler, name } = reconcilers[index]!;
      const stepContext = state.context;
      stepContext.throwIfAborted();
      try {
        const returned: unknown = await reconciler.reconcile(stepContext, client, parent);
        result = mergeResults(result, checkResult(returned, name));
      } catch (cause) {
        // Cancellation is not a failure of the reconciler: report it as such.
        const aborted = state.context.err() ?? stepContext.err();
        if (aborted) throw aborted;
        const error = new ReconcilerError(name, index, cause);
        // The caller gets the error (the runtime logs it once, with its retry decision).
        log.debug({ err: cause, reconciler: name }, error.message);
        this.recordFailure(state, name, cause);
        try {
          await this.handle(state, client, parent);
        } catch (handlerError) {
          error.handlerError = handlerError;
          log.warn({ err: handlerError }, `status conditions handler failed while recording the failure of ${name}`);
        }
        throw error;
      }
    }
    try {
      await this.handle(state, client, parent);
    } catch (cause) {
      if (state.context.aborted) throw state.context.err();
      throw new StatusConditionsHandlerError(cause);
    }
    return result;
  }

  private recordFailure(state: State, reconciler: string, cause: unknown): void {
    if (this.errorConditionType === null) return;
    const reason = (cause as { reason?: unknown })?.reason;
    const ownReason = typeof reason === 'string' && REASON.test(reason) && reason.length <= 1024;
    // An error with its own reason (TerminalError, ApiError) describes itself; others get
    // the reconciler's name so the condition says where it failed.
    state.addCondition({
      type: this.errorConditionType,
      status: 'False',
      reason: ownReason ? reason : 'ReconcileError',
      message: (ownReason ? describeError(cause) : `${reconciler}: ${describeError(cause)}`).slice(0, 32768),
    });
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

  /** @internal Use {@link forParent}. */
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
