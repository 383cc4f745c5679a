/**
 * The decorators of Maestro: declare what a class is (`@Resource`), which parent it
 * reconciles (`@Parent`), in which order (`@Reconciles`), what it owns and uses (`@Owns`,
 * `@Uses`), what it cleans up (`@Finalizer`), how conditions are written
 * (`@StatusConditions`), which services live for one reconcile (`@Scoped`, `@Bound`), and
 * schema details (`@Schema`). They only record into a {@link Registry}; `createOperator()`
 * and the generators read it through `buildSpecs`. Nothing here loads the runtime.
 *
 * @module
 */
import 'reflect-metadata';
import type { StaticBindable } from '../lib/binder/index.js';
import { isFinalizerName } from '../lib/api/names.js';
import type { OpenAPISchema } from '../lib/declare/openapi.js';
import { Registry, type ComponentClass, type OwnsOptions, type UsesOptions } from '../lib/declare/registry.js';
import { MaestroError } from '../lib/errors/index.js';
import type { ResourceClass, ResourceDeclaration } from '../lib/resources/index.js';
import { webhookDecoratorsFor, type WebhookDecorators } from './webhooks.js';

export type { OwnsOptions, UsesOptions } from '../lib/declare/registry.js';
export * from './webhooks.js';

/** A decorator was used with invalid arguments. */
export class DecoratorError extends MaestroError {
  readonly code = 'InvalidDecorator';
}

// What `client.apply` needs: server-side apply is a PATCH, and `create` when it creates the object.
// (list and watch are granted anyway: owned kinds are watched.)
const DEFAULT_OWNED_VERBS = Object.freeze(['create', 'patch']);

/** The decorators, writing into one registry (functions, so they can be destructured). */
export interface Decorators extends WebhookDecorators {
  Resource: (declaration: ResourceDeclaration) => ClassDecorator;
  Parent: (type: ResourceClass) => ClassDecorator;
  Reconciles: (order: number) => ClassDecorator;
  Owns: (type: ResourceClass, options?: OwnsOptions) => ClassDecorator;
  Uses: (type: ResourceClass, options: UsesOptions) => ClassDecorator;
  Finalizer: (name: string) => ClassDecorator;
  StatusConditions: () => ClassDecorator;
  Scoped: () => ClassDecorator;
  Bound: <T>(binder: StaticBindable<T>) => ParameterDecorator;
  Schema: (fragment: OpenAPISchema) => PropertyDecorator & ClassDecorator;
}

const asClass = (target: unknown): ComponentClass => target as ComponentClass;

/**
 * The decorators bound to `registry` (default: whichever registry is `Registry.default`
 * when a decorator is evaluated): kopf's `registry=`, for tests and for several operators
 * in one process.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const { Parent, Reconciles } = decoratorsFor(registry);
 * @Parent(V1ConfigMap) @Reconciles(10) class Step implements Reconciler<V1ConfigMap> { ... }
 * ```
 */
export function decoratorsFor(registry?: Registry): Decorators {
  const target = (): Registry => registry ?? Registry.default;
  return {
    ...webhookDecoratorsFor(registry),
    Resource: (declaration) => (type) => {
      target().resources.define(asClass(type) as ResourceClass, declaration);
    },
    Parent: (type) => (component) => {
      if (typeof type !== 'function') {
        throw new DecoratorError(`@Parent on ${component.name} needs a class (e.g. V1Deployment), got ${String(type)}; if the class is declared later in the same module, move it above`);
      }
      target().component(asClass(component)).parent = type;
    },
    Reconciles: (order) => (component) => {
      if (typeof order !== 'number' || !Number.isFinite(order)) {
        throw new DecoratorError(`@Reconciles on ${component.name} needs a finite number (its order), got ${String(order)}`);
      }
      target().component(asClass(component)).order = order;
    },
    Owns: (type, options = {}) => (component) => {
      if (typeof type !== 'function') throw new DecoratorError(`@Owns on ${component.name} needs a class such as V1ConfigMap, got ${String(type)}`);
      target().component(asClass(component)).owns.push({ type, verbs: Object.freeze([...(options.verbs ?? DEFAULT_OWNED_VERBS)]) });
    },
    Uses: (type, options) => (component) => {
      if (typeof type !== 'function') throw new DecoratorError(`@Uses on ${component.name} needs a class such as V1Namespace, got ${String(type)}`);
      if (!Array.isArray(options?.verbs) || options.verbs.length === 0) throw new DecoratorError(`@Uses(${type.name}) on ${component.name} needs verbs, e.g. { verbs: ['get', 'patch'] }`);
      target().component(asClass(component)).uses.push({
        type, verbs: Object.freeze([...options.verbs]), subresources: Object.freeze([...(options.subresources ?? [])]),
      });
    },
    Finalizer: (name) => (component) => {
      if (!isFinalizerName(name)) {
        throw new DecoratorError(`@Finalizer on ${component.name}: '${String(name)}' is not a domain-qualified finalizer name such as 'example.com/cleanup'`);
      }
      target().component(asClass(component)).finalizer = name;
    },
    StatusConditions: () => (component) => {
      target().component(asClass(component)).statusConditions = true;
    },
    Scoped: () => (component) => {
      target().markScoped(asClass(component));
    },
    Bound: (binder) => (owner, propertyKey, index) => {
      // Parameter decorators of constructors receive the class itself, with no property key.
      if (propertyKey !== undefined) throw new DecoratorError(`@Bound(${binder.name}) works on constructor parameters only`);
      target().bind(asClass(owner), index, binder);
    },
    Schema: (fragment) => ((owner: object, property?: string | symbol) => {
      if (property === undefined) {
        target().addClassSchema(asClass(owner), fragment);
        return;
      }
      const type = asClass((owner as { constructor: unknown }).constructor);
      if (typeof property === 'symbol') throw new DecoratorError(`@Schema on ${type.name}.${String(property)}: symbol-keyed properties have no JSON name`);
      target().addPropertySchema(type, property, fragment);
    }),
  };
}

const defaults = decoratorsFor();

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
  return defaults.Resource(declaration);
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
  return defaults.Parent(type);
}

/**
 * Makes a class a reconciler of its `@Parent`, run at position `order` (ascending; two
 * reconcilers of one parent cannot share an order). Its constructor parameters are
 * resolved per reconcile (dependency injection).
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
  return defaults.Reconciles(order);
}

/**
 * Declares a child kind the parent owns: the operator watches it, and an event on a
 * child whose controller owner reference points at a parent reconciles that parent.
 * Generated RBAC grants `list` and `watch` on it (it is watched) and `verbs` (default: `create`
 * and `patch`, what `client.apply` needs: reads come from the cache; add `delete` or `update`
 * if the component calls them).
 *
 * @example
 * ```ts
 * @Parent(StaticSite) @Reconciles(30) @Owns(V1Deployment)
 * export class DeploymentReconciler implements Reconciler<StaticSite> { ... }
 * ```
 */
export function Owns(type: ResourceClass, options: OwnsOptions = {}): ClassDecorator {
  return defaults.Owns(type, options);
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
export function Uses(type: ResourceClass, options: UsesOptions): ClassDecorator {
  return defaults.Uses(type, options);
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
  return defaults.Finalizer(name);
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
  return defaults.StatusConditions();
}

/**
 * Makes a class a per-reconcile service: every component of one reconcile that injects
 * it gets the same instance, and no other reconcile ever sees that instance. An instance
 * with a `dispose()` method is disposed when the reconcile ends.
 *
 * @example
 * ```ts
 * @Scoped()
 * export class SitePlan { replicas = 1; image = ''; }
 * ```
 */
export function Scoped(): ClassDecorator {
  return defaults.Scoped();
}

/**
 * Injects the value a binder holds in the reconcile's context at the time the component
 * is created (an earlier reconciler bound it with `bindToContext` and `updateContext`).
 * Fails the reconcile with `NotBoundError` when nothing was bound. Only the reconciles of
 * parents whose components use a binder provide it.
 *
 * @example
 * ```ts
 * constructor(@Bound(planBinder) private readonly plan: Plan) {}
 * ```
 */
export function Bound<T>(binder: StaticBindable<T>): ParameterDecorator {
  return defaults.Bound(binder);
}

/**
 * Adds to (or replaces) the schema derived for a property or a class, for what
 * decorators cannot say: descriptions, defaults, CEL rules, int-or-string, map value
 * types. A fragment with `type` (or `x-kubernetes-preserve-unknown-fields` /
 * `x-kubernetes-int-or-string`) replaces the derived node; any other fragment is merged
 * over it. On a class it is merged into the class's object schema.
 *
 * @example
 * ```ts
 * class SiteSpec {
 *   @IsInt() @Schema({ description: 'Pods to run', default: 1 }) replicas!: number;
 *   @IsOptional() @IsObject() @Schema({ additionalProperties: { type: 'string' } }) labels?: Record<string, string>;
 *   @Schema({ 'x-kubernetes-int-or-string': true }) port!: number | string;
 * }
 * ```
 */
export function Schema(fragment: OpenAPISchema): PropertyDecorator & ClassDecorator {
  return defaults.Schema(fragment);
}

/**
 * Every component class declared so far in `registry` (default: `Registry.default`), in
 * the order their modules were evaluated: what `createOperator()` runs when it is given
 * no list.
 */
export function discoveredComponents(registry: Registry = Registry.default): ComponentClass[] {
  return registry.components();
}
