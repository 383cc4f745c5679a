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
import { indexLookupOf, type MapFunction } from '../watch/handlers.js';
import type { CacheScope, IndexFunction, Transform } from '../watch/options.js';
import type { Predicate } from '../watch/predicates.js';
import { canonicalLabelSelector, parseFieldSelector } from '../watch/selectors.js';
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
 * An event source of a parent: a kind whose events reconcile parents, and how an object
 * of it leads to its parents. `owner`: the parent named by its controller owner reference
 * (`@Owns`); `map`: the user's map function (`@Watches`). Each declaration is a source of
 * its own: an event enqueues what every source that lets it pass maps it to.
 */
export interface WatchSpec {
  readonly type: ResourceClass;
  readonly resource: ResourceInfo;
  readonly mapping: 'owner' | 'map';
  /** The map function of a `map` source. */
  readonly map: MapFunction | undefined;
  /** Event filters: an event maps only if every one lets it pass. */
  readonly predicates: readonly Predicate[];
  /** The component (or components, for a shared `@Owns`) that declared it. */
  readonly declaredBy: string;
}

/** A field index on a cached kind (`@Index`). */
export interface IndexSpec {
  readonly type: ResourceClass;
  readonly resource: ResourceInfo;
  readonly field: string;
  readonly extract: IndexFunction;
  readonly declaredBy: string;
}

/**
 * How the operator caches one kind: one informer (per watched namespace) shared by every
 * declaration of it, with the scoping the declarations agree on, and its indexes.
 */
export interface CacheSpec {
  readonly type: ResourceClass;
  readonly resource: ResourceInfo;
  /** Label selector (canonical text), if the cache is scoped by labels. */
  readonly labelSelector: string | undefined;
  /** Field selector (canonical text), if the cache is scoped by fields. */
  readonly fieldSelector: string | undefined;
  /** Applied to each object before it is stored (after `managedFields` are dropped). */
  readonly transform: Transform | undefined;
  /** Whether only metadata is held (every declaration that caches the kind asked for it). */
  readonly metadataOnly: boolean;
  readonly indexes: readonly IndexSpec[];
  /** The declarations of the kind, e.g. `@Watches on ConnectDatabase`. */
  readonly declaredBy: readonly string[];
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
  /** Event sources besides the parent kind itself: owned children (`@Owns`) and related kinds (`@Watches`). */
  readonly watches: readonly WatchSpec[];
  /** Event filters on the parent kind (`@Parent` options), on top of the built-in one; all must pass. */
  readonly predicates: readonly Predicate[];
  /** Field indexes its components declared (`@Index`), on any kind. */
  readonly indexes: readonly IndexSpec[];
  /** Every component class of this parent. */
  readonly components: readonly ComponentSpec[];
}

/** What an operator consists of: one {@link ParentSpec} per parent kind, and the resources it knows. */
export interface OperatorSpec {
  readonly parents: readonly ParentSpec[];
  /** Every kind the operator caches (parents, owned, watched and indexed kinds), once each. */
  readonly caches: readonly CacheSpec[];
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
  /**
   * Whether a `byIndex` map of `@Watches` must find its index declared among these
   * components (default `true`: the operator's caches build only those). `reconcileOnce`
   * turns it off: it runs one reconcile of a subset of components, and no watch.
   */
  checkWatchIndexes?: boolean;
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
  const caching = new CacheCollector(problems);
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
    const ownerWatches: WatchSpec[] = [];
    const mapWatches: WatchSpec[] = [];
    const indexes: IndexSpec[] = [];
    const parentPredicates: Predicate[] = [];
    caching.add(parentType, resource, { where: `@Parent(${parentType.name})`, scope: {}, full: true });
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
      if (declaration.parentOptions) {
        const { predicates = [], ...scope } = declaration.parentOptions;
        for (const p of predicates as Predicate[]) if (!parentPredicates.includes(p)) parentPredicates.push(p);
        caching.add(parentType, resource, { where: `@Parent(${parentType.name}) on ${name}`, scope, full: true });
      }
      for (const owned of declaration.owns) {
        const kind = table.tryOf(owned.type);
        if (!kind) {
          problems.push(`${name} @Owns(${owned.type.name}), which is not a known Kubernetes resource: decorate it with @Resource`);
          continue;
        }
        if (!owns.has(kind)) owns.set(kind, { type: owned.type, resource: kind, verbs: owned.verbs, subresources: [] });
        caching.add(owned.type, kind, { where: `@Owns(${owned.type.name}) on ${name}`, scope: owned.scope, full: !owned.scope.metadataOnly, needsAll: true });
        // Declarations with the same filters (usually none) are one source.
        const same = ownerWatches.find((w) => w.resource === kind && samePredicates(w.predicates, owned.predicates));
        if (same) (same as { declaredBy: string }).declaredBy += `, ${name}`;
        else ownerWatches.push({ type: owned.type, resource: kind, mapping: 'owner', map: undefined, predicates: owned.predicates, declaredBy: name });
      }
      for (const watched of declaration.watches) {
        const kind = table.tryOf(watched.type);
        if (!kind) {
          problems.push(`${name} @Watches(${watched.type.name}), which is not a known Kubernetes resource: decorate it with @Resource`);
          continue;
        }
        caching.add(watched.type, kind, { where: `@Watches(${watched.type.name}) on ${name}`, scope: watched.scope, full: !watched.scope.metadataOnly });
        mapWatches.push({ type: watched.type, resource: kind, mapping: 'map', map: watched.map, predicates: watched.predicates, declaredBy: name });
      }
      for (const index of declaration.indexes) {
        const kind = table.tryOf(index.type);
        if (!kind) {
          problems.push(`${name} @Index(${index.type.name}, '${index.field}'), which is not a known Kubernetes resource: decorate it with @Resource`);
          continue;
        }
        const spec: IndexSpec = { type: index.type, resource: kind, field: index.field, extract: index.extract, declaredBy: name };
        caching.add(index.type, kind, { where: `@Index(${index.type.name}, '${index.field}') on ${name}`, scope: {}, index: spec });
        if (!indexes.some((i) => i.resource === kind && i.field === index.field && i.extract === index.extract)) indexes.push(spec);
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
      watches: [...ownerWatches, ...mapWatches],
      predicates: parentPredicates,
      indexes,
      components,
    }));
  }
  const caches = caching.specs();
  // A byIndex map whose index nobody declared would fail on every event, at run time.
  for (const parent of options.checkWatchIndexes === false ? [] : parents) {
    const declared = caches.find((c) => c.resource === parent.resource)?.indexes.map((i) => i.field) ?? [];
    for (const watch of parent.watches) {
      const field = indexLookupOf(watch.map);
      if (field === undefined || declared.includes(field)) continue;
      problems.push(`@Watches(${watch.type.name}, byIndex('${field}')) on ${watch.declaredBy}: ${parent.type.name} has no index '${field}'`
        + `${declared.length ? ` (its indexes: ${declared.join(', ')})` : ''}; declare @Index(${parent.type.name}, '${field}', (obj) => [...]) on a component`);
    }
  }
  const api = collectWebhookSpecs(registry, parents.map((p) => p.resource));
  problems.push(...api.problems);
  return { spec: Object.freeze({ parents: Object.freeze(parents), caches: freeze(caches), resources: table, webhooks: freeze(api.webhooks) }), problems };
}

const samePredicates = (a: readonly Predicate[], b: readonly Predicate[]) => a.length === b.length && a.every((p, i) => p === b[i]);

/** One declaration's say on how a kind is cached. */
interface CacheContribution {
  /** The declaration, for messages: `@Watches(V1Secret) on ConnectDatabase`. */
  where: string;
  scope: Readonly<CacheScope>;
  /** Whether it needs whole objects (`false`: metadata is enough; absent: no opinion, as an index). */
  full?: boolean;
  index?: IndexSpec;
  /** Whether it must see every object of the kind it did not select itself (`@Owns`: its own children). */
  needsAll?: boolean;
}

/**
 * Merges every declaration of each kind into one {@link CacheSpec}: set options must
 * agree (else a problem naming the declarations), unset ones accept the others' (but an
 * `@Owns` not a selector: it must see its children); the kind is held metadata-only only
 * if every declaration with an opinion asked for it.
 */
class CacheCollector {
  readonly #kinds = new Map<ResourceInfo, { type: ResourceClass; contributions: CacheContribution[] }>();
  constructor(private readonly problems: string[]) {}

  add(type: ResourceClass, resource: ResourceInfo, contribution: CacheContribution): void {
    const entry = this.#kinds.get(resource) ?? { type, contributions: [] };
    entry.contributions.push(contribution);
    this.#kinds.set(resource, entry);
  }

  specs(): CacheSpec[] {
    return [...this.#kinds.entries()].map(([resource, { type, contributions }]) => {
      const labelSelector = this.#agree(type, contributions, 'labelSelector', (value, where) => {
        try {
          // An empty selector selects everything: as if none were given.
          return canonicalLabelSelector(value as string | Record<string, string>) || undefined;
        } catch (err) {
          this.problems.push(`${where}: ${describeError(err)}`);
          return undefined;
        }
      });
      const fieldSelector = this.#agree(type, contributions, 'fieldSelector', (value, where) => {
        try {
          return parseFieldSelector(value as string | Record<string, string>).toString() || undefined;
        } catch (err) {
          this.problems.push(`${where}: ${describeError(err)}`);
          return undefined;
        }
      });
      const transform = this.#agree(type, contributions, 'transform', (value) => value as Transform);
      const opinions = contributions.filter((c) => c.full !== undefined);
      const indexes: IndexSpec[] = [];
      for (const { index } of contributions) {
        if (!index) continue;
        const clash = indexes.find((i) => i.field === index.field);
        if (!clash) indexes.push(index);
        else if (clash.extract !== index.extract) {
          this.problems.push(`${type.name} has two different index functions for the field '${index.field}' (@Index on ${clash.declaredBy} and on ${index.declaredBy}); share one function, or name the fields differently`);
        }
      }
      return {
        type,
        resource,
        labelSelector,
        fieldSelector,
        transform,
        metadataOnly: opinions.length > 0 && opinions.every((c) => c.full === false),
        indexes,
        declaredBy: contributions.map((c) => c.where),
      };
    });
  }

  /** The one value the declarations that set `key` give (compared after `normalize`), or a problem. */
  #agree<V>(type: ResourceClass, contributions: CacheContribution[], key: 'labelSelector' | 'fieldSelector' | 'transform', normalize: (value: unknown, where: string) => V | undefined): V | undefined {
    const values: Array<{ value: V; where: string }> = [];
    for (const c of contributions) {
      const given = c.scope[key];
      if (given === undefined) continue;
      const value = normalize(given, c.where);
      if (value !== undefined) values.push({ value, where: c.where });
    }
    const distinct = [...new Set(values.map((v) => v.value))];
    if (distinct.length === 1 && key !== 'transform') {
      // One informer serves every declaration: an @Owns that did not ask for the selector
      // would silently stop seeing its own children outside it.
      const selectsAll = (given: unknown) => given === undefined || (typeof given === 'string' ? given.trim() === '' : Object.keys(given as object).length === 0);
      for (const c of contributions.filter((c) => c.needsAll && selectsAll(c.scope[key]))) {
        this.problems.push(`${c.where} gives no ${key}, but ${values.map((v) => v.where).join(', ')} limits the one cache of ${type.name} to '${String(distinct[0])}': `
          + `the owned objects outside it would be invisible; give ${c.where} the same ${key} (and label the children to match), or filter the other declaration's events with a predicate (e.g. labelSelected) instead`);
      }
    }
    if (distinct.length > 1) {
      const shown = (v: V) => (typeof v === 'function' ? `a function${v.name ? ` (${v.name})` : ''}` : `'${String(v)}'`);
      this.problems.push(`${type.name} is cached once for the whole operator, but its declarations give different ${key}s: `
        + `${values.map((v) => `${shown(v.value)} (${v.where})`).join(', ')}; give each the same ${key} (a shared constant), or set it on one declaration only`);
    }
    return distinct[0];
  }
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
