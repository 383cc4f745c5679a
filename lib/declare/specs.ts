/**
 * The specs: what the user declared, checked once and frozen into plain values. The
 * runtime, the CRD and RBAC generators and the CLI consume these and nothing else.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Cleaner, HandlesStatusConditions, Reconciler } from '../api/index.js';
import type { StaticBindable } from '../binder/index.js';
import { MaestroError, describeError } from '../errors/index.js';
import type { ResourceClass, ResourceInfo, ResourceLookup } from '../resources/index.js';
import { hasValidation, specOnlyValidation } from '../validation/index.js';
import { Registry, type ComponentClass, type ComponentDeclaration } from './registry.js';
import { collectWebhookSpecs, type WebhookSpec } from './webhooks.js';

/**
 * The operator's classes do not fit together; `problems` lists every issue found (thrown by
 * `buildSpecs` and `createOperator`).
 *
 * @example
 * ```ts
 * try { createOperator({ reconcilers: [Orphan] }); } catch (err) {
 *   if (err instanceof OperatorConfigurationError) console.error(err.problems); // ['Orphan has @Reconciles(1) but no @Parent(Type)']
 * }
 * ```
 */
export class OperatorConfigurationError extends MaestroError {
  readonly code = 'OperatorConfiguration';
  constructor(readonly problems: readonly string[]) {
    super(`the operator is misconfigured:\n  - ${problems.join('\n  - ')}`);
  }
}

/** What a component class is to its parent. */
export type ComponentRole = 'reconciler' | 'cleaner' | 'status';

/** One decorated class of a parent, with what dependency injection needs to know of it. */
export interface ComponentSpec {
  readonly name: string;
  readonly type: ComponentClass;
  readonly role: ComponentRole;
  /** Constructor parameters injected from a binder (`@Bound`). */
  readonly bound: ReadonlyArray<{ readonly index: number; readonly binder: StaticBindable<unknown> }>;
}

/** A reconciler, at its position. */
export interface StepSpec {
  readonly name: string;
  readonly order: number;
  readonly type: ComponentClass<Reconciler<KubernetesObject>>;
}

/** A cleanup step and the finalizer that guards it. */
export interface CleanerSpec {
  readonly name: string;
  readonly finalizer: string;
  readonly type: ComponentClass<Cleaner<KubernetesObject>>;
}

/** The user's status-conditions handler (`@StatusConditions()`). */
export interface StatusHandlerSpec {
  readonly name: string;
  readonly type: ComponentClass<HandlesStatusConditions<KubernetesObject>>;
}

/** A kind the parent owns (`@Owns`) or uses (`@Uses`), with the verbs generated RBAC grants. */
export interface KindSpec {
  readonly type: ResourceClass;
  readonly resource: ResourceInfo;
  readonly verbs: readonly string[];
  /** Subresources the verbs also apply to (`@Uses` only). */
  readonly subresources: readonly string[];
}

/**
 * A kind whose events reconcile parents, and how an object of it leads to its parents.
 * `owner`: the parent named by its controller owner reference (owned children).
 */
export interface WatchSpec {
  readonly type: ResourceClass;
  readonly resource: ResourceInfo;
  readonly mapping: 'owner';
}

/** Validation of the parent object before any reconciler (class-validator constraints on its class). */
export interface ValidationSpec {
  readonly type: ResourceClass;
  /** Whether only `spec` carries constraints, so a generation found valid stays valid. */
  readonly specOnly: boolean;
}

/**
 * Everything declared about one parent kind: one controller runs per ParentSpec. The
 * one value that lists what it reconciles, in which order, what it owns, uses and
 * watches, its finalizers, its status handler and its validation.
 */
export interface ParentSpec<P extends KubernetesObject = KubernetesObject> {
  /** The controller's name in logs and metrics: the kind in lower case. */
  readonly name: string;
  readonly type: ResourceClass<P>;
  readonly resource: ResourceInfo;
  readonly validation: ValidationSpec | undefined;
  /** Reconcilers in `@Reconciles` order. */
  readonly steps: readonly StepSpec[];
  /** Cleanup steps, in declaration order. */
  readonly cleaners: readonly CleanerSpec[];
  /** The finalizers the runtime keeps on every parent (those of the cleaners). */
  readonly finalizers: readonly string[];
  readonly statusHandler: StatusHandlerSpec | undefined;
  /** Owned child kinds (`@Owns`), without duplicates. */
  readonly owns: readonly KindSpec[];
  /** Kinds used without being owned (`@Uses`). */
  readonly uses: readonly KindSpec[];
  /** Kinds whose events reconcile parents (besides the parent kind itself). */
  readonly watches: readonly WatchSpec[];
  /** Every component class of this parent. */
  readonly components: readonly ComponentSpec[];
}

/** What an operator consists of: one {@link ParentSpec} per parent kind, and the resources it knows. */
export interface OperatorSpec {
  readonly parents: readonly ParentSpec[];
  /** Resolves the classes and objects the operator handles (built-in kinds and the registry's). */
  readonly resources: ResourceLookup;
  /** The API of each custom parent kind: its versions, conversions and admission webhooks. */
  readonly webhooks: readonly WebhookSpec[];
}

/** Options of {@link buildSpecs}. */
export interface BuildSpecsOptions {
  /** Where the declarations are (default: `Registry.default`). */
  registry?: Registry;
  /** The component classes (default: every component class of the registry). */
  components?: readonly unknown[];
}

const roleOf = (d: Readonly<ComponentDeclaration>): string | undefined => {
  if (d.order !== undefined) return `@Reconciles(${d.order})`;
  if (d.finalizer !== undefined) return `@Finalizer('${d.finalizer}')`;
  if (d.statusConditions) return '@StatusConditions()';
  return undefined;
};

const isPlain = (value: unknown): value is object => Array.isArray(value)
  || (value !== null && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null));

/** Freezes plain objects and arrays, deeply; classes and other instances (binders) stay as they are. */
function freeze<T>(value: T): T {
  if (isPlain(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) freeze(child);
  }
  return value;
}

const hasMethod = (type: ComponentClass, method: string): boolean => typeof (type.prototype as Record<string, unknown>)[method] === 'function';

/**
 * Checks the declarations and builds the specs, collecting every problem (without
 * throwing) so that callers can add their own before reporting all of them at once.
 */
export function collectSpecs(options: BuildSpecsOptions = {}): { spec: OperatorSpec; problems: string[] } {
  const registry = options.registry ?? Registry.default;
  const table = registry.resources;
  const problems: string[] = [];
  const byParent = new Map<ResourceClass, ComponentClass[]>();
  for (const type of options.components ?? registry.components()) {
    if (typeof type !== 'function') {
      problems.push(`${String(type)} is not a class`);
      continue;
    }
    const component = type as ComponentClass;
    const declaration = registry.componentOf(component);
    const role = declaration && roleOf(declaration);
    if (!declaration || !role) {
      problems.push(`${component.name} is not a Maestro component: decorate it with @Parent(Type) and @Reconciles(order), @Finalizer(name) or @StatusConditions()`);
      continue;
    }
    if (!declaration.parent) {
      problems.push(`${component.name} has ${role} but no @Parent(Type)`);
      continue;
    }
    const members = byParent.get(declaration.parent) ?? [];
    if (!members.includes(component)) members.push(component);
    byParent.set(declaration.parent, members);
  }

  const parents: ParentSpec[] = [];
  for (const [parentType, members] of byParent) {
    let resource: ResourceInfo;
    try {
      resource = table.of(parentType);
    } catch (err) {
      problems.push(`parent ${parentType.name} of ${members.map((m) => m.name).join(', ')}: ${describeError(err)}`);
      continue;
    }
    const steps: StepSpec[] = [];
    const cleaners: CleanerSpec[] = [];
    const handlers: StatusHandlerSpec[] = [];
    const owns = new Map<ResourceInfo, KindSpec>();
    const uses: KindSpec[] = [];
    const components: ComponentSpec[] = [];
    for (const type of members) {
      const declaration = registry.componentOf(type)!;
      const name = type.name;
      const bound = [...registry.boundParameters(type)].map(([index, binder]) => ({ index, binder }));
      if (declaration.order !== undefined) {
        const clash = steps.find((s) => s.order === declaration.order);
        if (clash) problems.push(`${clash.name} and ${name} both reconcile ${parentType.name} at order ${declaration.order}; give each a distinct @Reconciles order`);
        if (!hasMethod(type, 'reconcile')) problems.push(`${name} has @Reconciles but no reconcile(ctx, client, parent) method`);
        steps.push({ name, order: declaration.order, type: type as StepSpec['type'] });
        components.push({ name, type, role: 'reconciler', bound });
      }
      if (declaration.finalizer !== undefined) {
        if (cleaners.some((c) => c.finalizer === declaration.finalizer)) problems.push(`two cleanup classes of ${parentType.name} use the finalizer '${declaration.finalizer}'`);
        if (!hasMethod(type, 'cleanup')) problems.push(`${name} has @Finalizer but no cleanup(ctx, client, parent) method`);
        cleaners.push({ name, finalizer: declaration.finalizer, type: type as CleanerSpec['type'] });
        if (declaration.order === undefined) components.push({ name, type, role: 'cleaner', bound });
      }
      if (declaration.statusConditions) {
        if (!hasMethod(type, 'handleStatusConditions')) problems.push(`${name} has @StatusConditions but no handleStatusConditions(ctx, client, parent, conditions) method`);
        handlers.push({ name, type: type as StatusHandlerSpec['type'] });
        if (declaration.order === undefined && declaration.finalizer === undefined) components.push({ name, type, role: 'status', bound });
      }
      for (const owned of declaration.owns) {
        const kind = table.tryOf(owned.type);
        if (!kind) problems.push(`${name} @Owns(${owned.type.name}), which is not a known Kubernetes resource: decorate it with @Resource`);
        else if (!owns.has(kind)) owns.set(kind, { type: owned.type, resource: kind, verbs: owned.verbs, subresources: [] });
      }
      for (const used of declaration.uses) {
        const kind = table.tryOf(used.type);
        if (!kind) problems.push(`${name} @Uses(${used.type.name}), which is not a known Kubernetes resource: decorate it with @Resource`);
        else uses.push({ type: used.type, resource: kind, verbs: used.verbs, subresources: used.subresources });
      }
    }
    if (handlers.length > 1) problems.push(`${parentType.name} has more than one @StatusConditions class: ${handlers.map((h) => h.name).join(', ')}`);
    steps.sort((a, b) => a.order - b.order);
    const ownedKinds = [...owns.values()];
    parents.push(freeze<ParentSpec>({
      name: resource.kind.toLowerCase(),
      type: parentType,
      resource,
      validation: hasValidation(parentType) ? { type: parentType, specOnly: specOnlyValidation(parentType) } : undefined,
      steps,
      cleaners,
      finalizers: cleaners.map((c) => c.finalizer),
      statusHandler: handlers[0],
      owns: ownedKinds,
      uses,
      watches: ownedKinds.map((k) => ({ type: k.type, resource: k.resource, mapping: 'owner' as const })),
      components,
    }));
  }
  const api = collectWebhookSpecs(registry, parents.map((p) => p.resource));
  problems.push(...api.problems);
  return { spec: Object.freeze({ parents: Object.freeze(parents), resources: table, webhooks: freeze(api.webhooks) }), problems };
}

/**
 * Turns what the decorators declared into the operator's specs, checking everything that
 * can be checked without a cluster: a `@Reconciles` without `@Parent`, duplicate orders or
 * finalizers, unknown kinds, missing methods, several status handlers.
 *
 * @throws {@link OperatorConfigurationError} listing every problem found.
 * @example
 * ```ts
 * const spec = buildSpecs({ components: [GreetingReconciler] });
 * spec.parents[0].steps.map((s) => s.name); // ['GreetingReconciler']
 * ```
 */
export function buildSpecs(options: BuildSpecsOptions = {}): OperatorSpec {
  const { spec, problems } = collectSpecs(options);
  if (problems.length > 0) throw new OperatorConfigurationError(problems);
  return spec;
}
