/**
 * Dependency injection of components, and the one adapter to tsyringe: everything the
 * runtime does with tsyringe happens here. Per parent it checks, before the first
 * reconcile, that every constructor parameter of every component can be provided; per
 * reconcile it opens a scope (a child container) that provides the reconcile's Context,
 * State, Logger, Client, parent object, the binder values and `@Scoped` services of that
 * parent's components.
 *
 * The decorators only record into the Registry; this module applies tsyringe's own
 * decorators (`inject` for `@Bound` parameters, `injectable`) when it plans a parent. It
 * also reads tsyringe's `injectionTokens` metadata (to honour a user's `@inject(token)`),
 * a private key of tsyringe, which is pinned exactly; test/adapters/internals.test.ts
 * fails loudly when an upgrade changes it.
 *
 * @module
 */
import 'reflect-metadata';
import { Lifecycle, inject, injectable, type DependencyContainer, type InjectionToken } from 'tsyringe';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { StaticBindable } from '../binder/index.js';
import { Client } from '../client/client.js';
import { Context } from '../context/index.js';
import type { ComponentClass, Registry } from '../declare/registry.js';
import type { ParentSpec } from '../declare/specs.js';
import { Logger } from '../log/index.js';
import { State, fetchState } from '../state/index.js';

/** What the reconcile scopes of one parent provide besides the reconcile's own values. */
export interface ParentInjection {
  /** `@Scoped` services reachable from the parent's components. */
  readonly scoped: readonly ComponentClass[];
  /** Binders whose values the parent's components (or their services) inject with `@Bound`. */
  readonly binders: readonly StaticBindable<unknown>[];
}

// tsyringe's typings accept only concrete classes as tokens; at runtime any constructor works.
const tokenOf = <T>(type: abstract new (...args: never[]) => T): InjectionToken<T> => type as InjectionToken<T>;

/** @internal tsyringe's private metadata key of `@inject` tokens (reflection-helpers.ts). */
export const INJECTION_TOKENS_KEY = 'injectionTokens';

/** The tokens a user gave constructor parameters of `type` with tsyringe's `@inject(token)`, by index. */
export function injectionTokens(type: ComponentClass): Map<number, unknown> {
  const raw = (Reflect.getOwnMetadata(INJECTION_TOKENS_KEY, type) ?? {}) as Record<string, unknown>;
  const tokens = new Map<number, unknown>();
  for (const [index, value] of Object.entries(raw)) {
    tokens.set(Number(index), typeof value === 'object' && value !== null && 'token' in value ? value.token : value);
  }
  return tokens;
}

const PRIMITIVES: ReadonlySet<unknown> = new Set([Object, String, Number, Boolean, Symbol, Array, Function, Promise, undefined]);

function tokenName(token: unknown): string {
  if (typeof token === 'function') return token.name || 'anonymous class';
  if (typeof token === 'symbol') return token.description ?? token.toString();
  return String(token);
}

/**
 * Makes tsyringe able to construct `type`: `@Bound` parameters get their binder's token,
 * and the class gets tsyringe's type information. Idempotent.
 */
function prepare(type: ComponentClass, registry: Registry): void {
  for (const [index, binder] of registry.boundParameters(type)) {
    inject(binder.token)(type, undefined, index);
  }
  injectable()(type as new () => unknown);
}

/**
 * Checks that every constructor parameter of each component of `spec` can be provided,
 * and collects the `@Scoped` services and binders its reconciles must provide. Problems
 * name the class, the parameter's index and its type.
 */
export function planInjection(spec: ParentSpec, registry: Registry, container: DependencyContainer): { plan: ParentInjection; problems: string[] } {
  const problems: string[] = [];
  const scoped = new Set<ComponentClass>();
  const binders = new Set<StaticBindable<unknown>>();
  const provided = new Set<unknown>([Context, State, Logger, Client, spec.type]);
  const seen = new Set<ComponentClass>();

  const check = (type: ComponentClass): void => {
    if (seen.has(type)) return;
    seen.add(type);
    const paramTypes = Reflect.getMetadata('design:paramtypes', type) as unknown[] | undefined;
    if (type.length > 0 && !paramTypes) {
      problems.push(`${type.name} is not injectable: its constructor takes ${type.length} parameter(s) but has no type metadata (decorate it, and compile with tsc and emitDecoratorMetadata: esbuild-based runners drop the metadata)`);
      return;
    }
    const bound = registry.boundParameters(type);
    const params = [...(paramTypes ?? [])];
    for (const [index, token] of injectionTokens(type)) params[index] = token;
    for (const [index, binder] of bound) {
      params[index] = binder.token;
      binders.add(binder);
    }
    params.forEach((param, index) => {
      const where = `${type.name} constructor parameter #${index} (${tokenName(param)})`;
      if (provided.has(param) || [...binders].some((b) => b.token === param)) return;
      if (registry.isScoped(param)) {
        const service = param as ComponentClass;
        scoped.add(service);
        prepare(service, registry);
        check(service);
        return;
      }
      if (container.isRegistered(param as InjectionToken<unknown>, true)) return;
      if (PRIMITIVES.has(param)) {
        problems.push(`${where} has no provider: interfaces and primitive types carry no runtime type; inject a class, or use @inject(token) / @Bound(binder)`);
        return;
      }
      if (typeof param !== 'function') {
        problems.push(`${where} has no provider: register the token in the container passed to createOperator()`);
        return;
      }
      check(param as ComponentClass);
    });
  };

  for (const component of spec.components) {
    prepare(component.type, registry);
    check(component.type);
  }
  return { plan: { scoped: [...scoped], binders: [...binders] }, problems };
}

/**
 * The dependency-injection scope of one reconcile: a child container in which the
 * reconcile's Context, State, Logger, Client, parent object and binder values are
 * registered, and `@Scoped` services live. Each reconcile gets its own, so two
 * concurrent reconciles never share an instance; user singletons come from the parent
 * container and stay singletons.
 */
export class ReconcileScope {
  readonly #container: DependencyContainer;
  #context: Context = Context.background();

  constructor(root: DependencyContainer, parentType: ParentSpec['type'], plan: ParentInjection, parent: KubernetesObject, client: Client, logger: Logger) {
    const container = root.createChildContainer();
    container.register(tokenOf(Client), { useValue: client });
    container.register(tokenOf(Logger), { useValue: logger });
    container.register(tokenOf(parentType), { useValue: parent });
    // Factories, not values: the context changes from one component to the next. (Context's
    // constructor is private, so the class is not a constructor type: the one cast needed.)
    container.register(tokenOf<Context>(Context as unknown as abstract new () => Context), { useFactory: () => this.#context });
    container.register(State, { useFactory: () => fetchState(this.#context) });
    for (const binder of plan.binders) {
      container.register(binder.token, { useFactory: () => binder.fromContext(this.#context) });
    }
    for (const service of plan.scoped) {
      container.register(tokenOf(service), { useClass: service as new () => unknown }, { lifecycle: Lifecycle.ContainerScoped });
    }
    this.#container = container;
  }

  /** Creates an instance of `type` for the component that runs with `ctx`. */
  resolve<T>(type: abstract new (...args: never[]) => T, ctx: Context): T {
    this.#context = ctx;
    return this.#container.resolve(tokenOf(type));
  }

  /** Releases the scope's services (those implementing `dispose()` are disposed). */
  async dispose(): Promise<void> {
    await this.#container.dispose();
  }
}
