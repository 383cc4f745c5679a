/**
 * The Registry: where the decorators write what the user declared (kopf's `registry=`).
 * It only records; {@link buildSpecs} validates it and turns it into specs.
 *
 * @module
 */
import type { StaticBindable } from '../binder/index.js';
import { builtInResources, ResourceTable, type ResourceClass } from '../resources/index.js';
import type { OpenAPISchema } from './openapi.js';
import { APIDeclarations } from './webhooks.js';

/**
 * A class, as decorators see it: any constructor parameters (they are injected).
 *
 * @example
 * ```ts
 * const reconcilers: ComponentClass[] = [PlanSite, ApplyContent];
 * ```
 */
export type ComponentClass<T = unknown> = abstract new (...args: never[]) => T;

/** Options of `@Owns`. */
export interface OwnsOptions {
  /**
   * Verbs the reconciler uses on this kind, for generated RBAC, besides `list` and `watch`
   * (the kind is watched) (default: `create` and `patch`, what `client.apply` needs; reads
   * come from the cache).
   */
  verbs?: string[];
}

/** Options of `@Uses`. */
export interface UsesOptions {
  /** Verbs the component uses on this kind, for generated RBAC. */
  verbs: string[];
  /** Subresources the verbs also apply to (e.g. `status`). */
  subresources?: string[];
}

/** An `@Owns` declaration as recorded. */
export interface OwnedDeclaration {
  readonly type: ResourceClass;
  readonly verbs: readonly string[];
}

/** A `@Uses` declaration as recorded. */
export interface UsedDeclaration {
  readonly type: ResourceClass;
  readonly verbs: readonly string[];
  readonly subresources: readonly string[];
}

/** Everything the decorators recorded about one component class. */
export interface ComponentDeclaration {
  /** `@Parent(type)`. */
  parent?: ResourceClass;
  /** `@Reconciles(order)`. */
  order?: number;
  /** `@Finalizer(name)`. */
  finalizer?: string;
  /** `@StatusConditions()`. */
  statusConditions?: boolean;
  /** `@Owns(type)`, in declaration order. */
  readonly owns: OwnedDeclaration[];
  /** `@Uses(type)`, in declaration order. */
  readonly uses: UsedDeclaration[];
}

let current: Registry | undefined;

/**
 * What the decorators declared: resources (`@Resource`), components (`@Parent`,
 * `@Reconciles`, `@Owns`, `@Uses`, `@Finalizer`, `@StatusConditions`), per-reconcile
 * services (`@Scoped`, `@Bound`) and schema fragments (`@Schema`). It records only;
 * `buildSpecs` checks it and turns it into the specs the runtime and the generators use.
 *
 * Decorators write into {@link Registry.default} unless given another registry (see
 * `decoratorsFor` in `maestro-operator/decorators`). Tests can isolate their classes
 * with a registry of their own, or swap the default with {@link Registry.setDefault}.
 * Built-in kinds are known to every registry.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const { Parent, Reconciles } = decoratorsFor(registry);
 * @Parent(V1ConfigMap) @Reconciles(10) class Step { async reconcile() { return {}; } }
 * createOperator({ registry });
 * ```
 */
export class Registry {
  /** The resources declared here, over the built-in kinds. */
  readonly resources = new ResourceTable(builtInResources);
  /** Defaults, deprecated fields and conversions (`@Default`, `@Deprecated`, `@Converts`). */
  readonly api = new APIDeclarations();
  readonly #components = new Map<ComponentClass, ComponentDeclaration>();
  readonly #scoped = new Set<ComponentClass>();
  readonly #bound = new Map<ComponentClass, Map<number, StaticBindable<unknown>>>();
  readonly #propertySchemas = new Map<ComponentClass, Map<string, OpenAPISchema>>();
  readonly #classSchemas = new Map<ComponentClass, OpenAPISchema>();

  /** The registry decorators write into when given none (created on first use). */
  static get default(): Registry {
    current ??= new Registry();
    return current;
  }

  /**
   * Makes `registry` the default (for decorators evaluated from now on, `createOperator`,
   * the generators and the CLI); returns the previous default so it can be restored.
   */
  static setDefault(registry: Registry): Registry {
    const previous = Registry.default;
    current = registry;
    return previous;
  }

  /** The record of `type`, created on first use (for decorators). */
  component(type: ComponentClass): ComponentDeclaration {
    let declaration = this.#components.get(type);
    if (!declaration) {
      declaration = { owns: [], uses: [] };
      this.#components.set(type, declaration);
    }
    return declaration;
  }

  /** What was declared about `type`, if anything. */
  componentOf(type: ComponentClass): Readonly<ComponentDeclaration> | undefined {
    return this.#components.get(type);
  }

  /**
   * Every class declared with `@Reconciles`, `@Finalizer` or `@StatusConditions`, in the
   * order their modules were evaluated: what `createOperator()` runs when it is not given
   * an explicit list.
   */
  components(): ComponentClass[] {
    return [...this.#components.entries()]
      .filter(([, d]) => d.order !== undefined || d.finalizer !== undefined || d.statusConditions === true)
      .map(([type]) => type);
  }

  /** Records `@Scoped()`: one instance per reconcile. */
  markScoped(type: ComponentClass): void {
    this.#scoped.add(type);
  }

  /** Whether `type` is `@Scoped()`. */
  isScoped(type: unknown): boolean {
    return this.#scoped.has(type as ComponentClass);
  }

  /** Records `@Bound(binder)` on constructor parameter `index` of `type`. */
  bind(type: ComponentClass, index: number, binder: StaticBindable<unknown>): void {
    let params = this.#bound.get(type);
    if (!params) this.#bound.set(type, (params = new Map<number, StaticBindable<unknown>>()));
    params.set(index, binder);
  }

  /** The `@Bound` constructor parameters of `type`, by index. */
  boundParameters(type: ComponentClass): ReadonlyMap<number, StaticBindable<unknown>> {
    return this.#bound.get(type) ?? new Map();
  }

  /** Records a `@Schema` fragment on a property (merged over earlier ones). */
  addPropertySchema(owner: ComponentClass, property: string, fragment: OpenAPISchema): void {
    let own = this.#propertySchemas.get(owner);
    if (!own) this.#propertySchemas.set(owner, (own = new Map<string, OpenAPISchema>()));
    own.set(property, { ...own.get(property), ...fragment });
  }

  /** Records a `@Schema` fragment on a class (merged over earlier ones). */
  addClassSchema(type: ComponentClass, fragment: OpenAPISchema): void {
    this.#classSchemas.set(type, { ...this.#classSchemas.get(type), ...fragment });
  }

  /** The `@Schema` fragments of the properties of `type` and its base classes (a subclass's win). */
  propertySchemas(type: ComponentClass): Map<string, OpenAPISchema> {
    const merged = new Map<string, OpenAPISchema>();
    for (const t of lineage(type)) {
      for (const [k, v] of this.#propertySchemas.get(t) ?? []) merged.set(k, { ...merged.get(k), ...v });
    }
    return merged;
  }

  /** The class-level `@Schema` fragments of `type` and its base classes, merged. */
  classSchema(type: ComponentClass): OpenAPISchema {
    return Object.assign({}, ...lineage(type).map((t) => this.#classSchemas.get(t) ?? {})) as OpenAPISchema;
  }
}

/** The classes from `type` up its inheritance chain, base classes first. */
export function lineage(type: ComponentClass): ComponentClass[] {
  const chain: ComponentClass[] = [];
  for (let t: unknown = type; typeof t === 'function' && t !== Function.prototype; t = Object.getPrototypeOf(t)) chain.unshift(t as ComponentClass);
  return chain;
}
