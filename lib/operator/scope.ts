import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Reconciler, Result } from '../api/index.js';
import type { StaticBindable } from '../binder/index.js';
import { Client } from '../client/client.js';
import { Context, ContextKey } from '../context/index.js';
import { MaestroError } from '../errors/index.js';
import { Logger } from '../log/index.js';
import type { ResourceClass } from '../resources/index.js';
import { State, fetchState } from '../state/index.js';

/** A reconciler class that resolves per reconcile. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type InjectableClass<T> = new (...args: any[]) => T;

/** Thrown when a dependency-injected reconciler runs outside the operator's reconcile scope. */
export class MissingScopeError extends MaestroError {
  readonly code = 'MissingScope';
}

const SCOPE = new ContextKey<ReconcileScope>('maestro.scope');

// tsyringe's typings reject abstract classes as tokens; at runtime any constructor works.
const token = <T>(type: abstract new (...args: never[]) => T): InjectionToken<T> => type as unknown as InjectionToken<T>;

/**
 * The dependency-injection scope of one reconcile: a child container in which the
 * reconcile's Context, State, Logger, Client, parent object and binder values are
 * registered, and `@Scoped` services live. Each reconcile gets its own, so two
 * concurrent reconciles never share an instance; user singletons come from the parent
 * container and stay singletons.
 */
export class ReconcileScope {
  readonly container: DependencyContainer;
  #context: Context = Context.background();

  constructor(
    root: DependencyContainer,
    parentType: ResourceClass,
    parent: KubernetesObject,
    client: Client,
    logger: Logger,
    binders: readonly StaticBindable<unknown>[],
  ) {
    const container = root.createChildContainer();
    container.register(token(Client), { useValue: client });
    container.register(token(Logger), { useValue: logger });
    container.register(token(parentType), { useValue: parent });
    // Factories, not values: the context changes from one reconciler to the next.
    container.register(token(Context as unknown as abstract new () => Context), { useFactory: () => this.#context });
    container.register(State, { useFactory: () => fetchState(this.#context) });
    for (const binder of binders) {
      container.register(binder.token, { useFactory: () => binder.fromContext(this.#context) });
    }
    this.container = container;
  }

  /** The scope `ctx` belongs to, if any. */
  static from(ctx: Context): ReconcileScope | undefined {
    return ctx.value(SCOPE);
  }

  /** `ctx` carrying this scope. */
  bind(ctx: Context): Context {
    return ctx.withValue(SCOPE, this);
  }

  /** Creates an instance of `type` for the step that runs with `ctx`. */
  resolve<T>(type: InjectableClass<T>, ctx: Context): T {
    this.#context = ctx;
    return this.container.resolve(type);
  }

  /** Releases the scope's services (those implementing `dispose()` are disposed). */
  async dispose(): Promise<void> {
    await this.container.dispose();
  }
}

/**
 * Adapts a reconciler class to the conductor: each conduct resolves a fresh instance
 * from the reconcile's scope and delegates to it.
 */
export class InjectedReconciler<P extends KubernetesObject> implements Reconciler<P> {
  constructor(readonly type: InjectableClass<Reconciler<P>>) {}

  async reconcile(ctx: Context, client: Client, parent: P): Promise<Result> {
    const scope = ReconcileScope.from(ctx);
    if (!scope) {
      throw new MissingScopeError(`${this.type.name} is resolved by dependency injection and runs only inside the operator's reconcile scope`);
    }
    return scope.resolve(this.type, ctx).reconcile(ctx, client, parent);
  }
}
