/**
 * Typed state shared between the reconcilers of one conduct through the context (the
 * original's `pkg/binder`).
 *
 * @module
 */
import { Context, ContextKey } from '../context/index.js';
import { MaestroError } from '../errors/index.js';

/** Thrown by {@link StaticBindable.fromContext} when no value was bound. */
export class NotBoundError extends MaestroError {
  readonly code = 'NotBound';
  constructor(readonly binder: string) {
    super(`binder '${binder}' has no value in this context: bind one with bindToContext() in an earlier reconciler and pass the returned context to fetchState(ctx).updateContext()`);
  }
}

/** Thrown by {@link StaticBindable.bindToContext} for a value that cannot be bound. */
export class InvalidBindingError extends MaestroError {
  readonly code = 'InvalidBinding';
}

/**
 * A typed slot in the context. Each instance is its own slot: two binders of the same
 * `T` never see each other's values.
 *
 * @example
 * ```ts
 * interface Plan { replicas: number }
 * export const planBinder = new StaticBindable<Plan>('plan');
 *
 * // in reconciler 10
 * const state = fetchState(ctx);
 * state.updateContext(planBinder.bindToContext(ctx, { replicas: 3 }));
 * // in reconciler 20
 * const plan = planBinder.fromContext(ctx);
 * ```
 */
export class StaticBindable<T> {
  readonly #key: ContextKey<T>;
  /** The dependency-injection token of this binder's value (see the `@Bound` decorator). */
  readonly token: symbol;

  /** @param name names the binder in errors and logs. */
  constructor(readonly name: string = 'StaticBindable') {
    this.#key = new ContextKey<T>(name);
    this.token = Symbol(`binder:${name}`);
  }

  /** A context derived from `ctx` that carries `value` in this binder's slot. */
  bindToContext(ctx: Context, value: T): Context {
    if (value === undefined) throw new InvalidBindingError(`binder '${this.name}': cannot bind undefined`);
    return ctx.withValue(this.#key, value);
  }

  /**
   * The value bound in `ctx` (or an ancestor).
   *
   * @throws {@link NotBoundError} naming this binder when none was bound.
   */
  fromContext(ctx: Context): T {
    const value = ctx.value(this.#key);
    if (value === undefined) throw new NotBoundError(this.name);
    return value;
  }

  /** The value bound in `ctx`, or `undefined`. */
  tryFromContext(ctx: Context): T | undefined {
    return ctx.value(this.#key);
  }
}
