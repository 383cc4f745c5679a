/**
 * The decorators of Maestro: declare what a class is (`@Resource`), which parent it
 * reconciles (`@Parent`), in which order (`@Reconciles`), what it owns (`@Owns`), what it
 * cleans up (`@Finalizer`), how conditions are written (`@StatusConditions`), and which
 * services live for one reconcile (`@Scoped`, `@Bound`).
 *
 * @module
 */
import 'reflect-metadata';
import { Lifecycle, inject, injectable, scoped } from 'tsyringe';
import type { InjectionToken } from 'tsyringe';
import type { StaticBindable } from '../lib/binder/index.js';
import { MaestroError } from '../lib/errors/index.js';
import { defineResource, type ResourceClass, type ResourceDeclaration } from '../lib/resources/index.js';
import { record, rememberBinder, type OwnsOptions } from './metadata.js';

export { componentMetadata, discoveredComponents, boundBinders } from './metadata.js';
export type { ComponentMetadata, Constructor, OwnedKind, OwnsOptions, UsedKind } from './metadata.js';

/** A decorator was used with invalid arguments. */
export class DecoratorError extends MaestroError {
  readonly code = 'InvalidDecorator';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClass = new (...args: any[]) => unknown;

const QUALIFIED_FINALIZER = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DEFAULT_OWNED_VERBS = Object.freeze(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']);

/**
 * Declares the Kubernetes resource a class represents, for custom resources (built-in
 * kinds such as `V1Deployment` are known already). Properties may carry class-validator
 * decorators: the parent's spec is validated before any reconciler runs, and CRDs are
 * generated from them.
 *
 * @example
 * ```ts
 * @Resource({ group: 'example.com', version: 'v1', kind: 'StaticSite', shortNames: ['site'] })
 * export class StaticSite {
 *   apiVersion?: string; kind?: string; metadata?: V1ObjectMeta;
 *   @ValidateNested() spec!: StaticSiteSpec;
 *   status?: { conditions?: Condition[] };
 * }
 * ```
 */
export function Resource(declaration: ResourceDeclaration): ClassDecorator {
  return (target) => {
    defineResource(target as unknown as ResourceClass, declaration);
  };
}

/**
 * Names the parent resource type a reconciler, finalizer or status-conditions handler
 * works on: a client-node model (`V1Deployment`) or a `@Resource` class.
 *
 * @example
 * ```ts
 * @Parent(V1Deployment) @Reconciles(10)
 * export class PodReconciler implements Reconciler<V1Deployment> { ... }
 * ```
 */
export function Parent(type: ResourceClass): ClassDecorator {
  return (target) => {
    if (typeof type !== 'function') {
      throw new DecoratorError(`@Parent on ${target.name} needs a class (e.g. V1Deployment), got ${String(type)}; if the class is declared later in the same module, move it above`);
    }
    record(target).parent = type;
  };
}

/**
 * Makes a class a reconciler of its `@Parent`, run at position `order` (ascending; two
 * reconcilers of one parent cannot share an order). The class becomes injectable: its
 * constructor parameters are resolved per reconcile.
 *
 * @example
 * ```ts
 * @Parent(StaticSite) @Reconciles(20)
 * export class ConfigMapReconciler implements Reconciler<StaticSite> {
 *   constructor(private readonly plan: SitePlan) {}
 *   async reconcile(ctx: Context, client: Client, site: StaticSite): Promise<Result> { ... }
 * }
 * ```
 */
export function Reconciles(order: number): ClassDecorator {
  return (target) => {
    if (typeof order !== 'number' || !Number.isFinite(order)) {
      throw new DecoratorError(`@Reconciles on ${target.name} needs a finite number (its order), got ${String(order)}`);
    }
    injectable()(target as unknown as AnyClass);
    record(target).order = order;
  };
}

/**
 * Declares a child kind the parent owns: the operator watches it, and an event on a
 * child whose controller owner reference points at a parent reconciles that parent.
 * Generated RBAC grants `verbs` on it.
 *
 * @example
 * ```ts
 * @Parent(StaticSite) @Reconciles(30) @Owns(V1Deployment)
 * export class DeploymentReconciler implements Reconciler<StaticSite> { ... }
 * ```
 */
export function Owns(type: ResourceClass, options: OwnsOptions = {}): ClassDecorator {
  return (target) => {
    if (typeof type !== 'function') throw new DecoratorError(`@Owns on ${target.name} needs a class such as V1ConfigMap, got ${String(type)}`);
    record(target).owns.push({ type, verbs: Object.freeze([...(options.verbs ?? DEFAULT_OWNED_VERBS)]) });
  };
}

/**
 * Declares a kind a component reads or writes without owning it (it is not watched):
 * generated RBAC grants `verbs` on it. Reads of unwatched kinds go to the API server.
 *
 * @example
 * ```ts
 * @Parent(StaticSite) @Finalizer('example.com/cleanup') @Uses(V1Namespace, { verbs: ['get', 'patch'] })
 * export class SiteCleanup implements Cleaner<StaticSite> { ... }
 * ```
 */
export function Uses(type: ResourceClass, options: { verbs: string[]; subresources?: string[] }): ClassDecorator {
  return (target) => {
    if (typeof type !== 'function') throw new DecoratorError(`@Uses on ${target.name} needs a class such as V1Namespace, got ${String(type)}`);
    if (!Array.isArray(options?.verbs) || options.verbs.length === 0) throw new DecoratorError(`@Uses(${type.name}) on ${target.name} needs verbs, e.g. { verbs: ['get', 'patch'] }`);
    record(target).uses.push({ type, verbs: Object.freeze([...options.verbs]), subresources: Object.freeze([...(options.subresources ?? [])]) });
  };
}

/**
 * Makes a class the cleanup step of its `@Parent` (it implements `Cleaner<P>`): the
 * runtime adds the finalizer `name` to every parent, calls `cleanup()` once the parent
 * is being deleted, and removes the finalizer only after `cleanup()` succeeded.
 *
 * @example
 * ```ts
 * @Parent(StaticSite) @Finalizer('example.com/cleanup')
 * export class SiteCleanup implements Cleaner<StaticSite> {
 *   async cleanup(ctx: Context, client: Client, site: StaticSite): Promise<Result> { ... }
 * }
 * ```
 */
export function Finalizer(name: string): ClassDecorator {
  return (target) => {
    if (typeof name !== 'string' || name.length > 316 || !QUALIFIED_FINALIZER.test(name)) {
      throw new DecoratorError(`@Finalizer on ${target.name}: '${String(name)}' is not a domain-qualified finalizer name such as 'example.com/cleanup'`);
    }
    injectable()(target as unknown as AnyClass);
    record(target).finalizer = name;
  };
}

/**
 * Makes a class the status-conditions handler of its `@Parent` (it implements
 * `HandlesStatusConditions<P>`), replacing the runtime's default handler.
 *
 * @example
 * ```ts
 * @Parent(V1Deployment) @StatusConditions()
 * export class DeploymentConditions implements HandlesStatusConditions<V1Deployment> {
 *   async handleStatusConditions(ctx, client, deployment, conditions) { ... }
 * }
 * ```
 */
export function StatusConditions(): ClassDecorator {
  return (target) => {
    injectable()(target as unknown as AnyClass);
    record(target).statusConditions = true;
  };
}

/**
 * Makes a class a per-reconcile service: every reconciler of one reconcile that injects
 * it gets the same instance, and no other reconcile ever sees that instance.
 *
 * @example
 * ```ts
 * @Scoped()
 * export class SitePlan { replicas = 1; image = ''; }
 * ```
 */
export function Scoped(): ClassDecorator {
  return (target) => {
    scoped(Lifecycle.ContainerScoped)(target as unknown as AnyClass);
  };
}

/**
 * Injects the value a binder holds in the reconcile's context at the time the
 * reconciler is created (an earlier reconciler bound it with `bindToContext` and
 * `updateContext`). Fails the reconcile with `NotBoundError` when nothing was bound.
 *
 * @example
 * ```ts
 * constructor(@Bound(planBinder) private readonly plan: Plan) {}
 * ```
 */
export function Bound<T>(binder: StaticBindable<T>): ParameterDecorator {
  return (target, propertyKey, index) => {
    rememberBinder(binder as StaticBindable<unknown>);
    inject(binder.token as InjectionToken<T>)(target, propertyKey, index);
  };
}
