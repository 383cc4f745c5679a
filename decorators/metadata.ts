/**
 * What the decorators record about a class, and how the runtime reads it back. The
 * decorators only record; `createOperator()` validates and assembles.
 */
import type { StaticBindable } from '../lib/binder/index.js';
import type { ResourceClass } from '../lib/resources/index.js';

/** A class constructor, as decorators see it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T = unknown> = abstract new (...args: any[]) => T;

/** Options of `@Owns`. */
export interface OwnsOptions {
  /**
   * Verbs the reconciler uses on this kind, for generated RBAC (default: everything a
   * server-side-applying controller needs: get, list, watch, create, update, patch, delete).
   */
  verbs?: string[];
}

/** An owned (watched) child kind declared with `@Owns`. */
export interface OwnedKind {
  type: ResourceClass;
  verbs: readonly string[];
}

/** A kind a component reads or writes without owning it, declared with `@Uses` (for RBAC). */
export interface UsedKind {
  type: ResourceClass;
  verbs: readonly string[];
  /** Subresources the verbs also apply to (e.g. `status`). */
  subresources: readonly string[];
}

/** Everything the decorators recorded about one component class. */
export interface ComponentMetadata {
  /** `@Parent(type)`. */
  parent?: ResourceClass;
  /** `@Reconciles(order)`. */
  order?: number;
  /** `@Finalizer(name)`. */
  finalizer?: string;
  /** `@StatusConditions()`. */
  statusConditions?: boolean;
  /** `@Owns(type)`, in declaration order. */
  owns: OwnedKind[];
  /** `@Uses(type)`, in declaration order. */
  uses: UsedKind[];
}

const components = new Map<Function, ComponentMetadata>();
const binders = new Set<StaticBindable<unknown>>();

/** @internal The metadata record of a class, created on first use. */
export function record(target: Function): ComponentMetadata {
  let metadata = components.get(target);
  if (!metadata) {
    metadata = { owns: [], uses: [] };
    components.set(target, metadata);
  }
  return metadata;
}

/** The metadata the decorators recorded on `target`, if any. */
export function componentMetadata(target: Function): Readonly<ComponentMetadata> | undefined {
  return components.get(target);
}

/**
 * Every class decorated with `@Reconciles`, `@Finalizer` or `@StatusConditions` so far,
 * in the order their modules were evaluated: what `createOperator()` discovers when it
 * is not given an explicit list.
 */
export function discoveredComponents(): Function[] {
  return [...components.entries()]
    .filter(([, m]) => m.order !== undefined || m.finalizer !== undefined || m.statusConditions === true)
    .map(([type]) => type);
}

/** @internal Remembers a binder used with `@Bound`, so each reconcile can provide it. */
export function rememberBinder(binder: StaticBindable<unknown>): void {
  binders.add(binder);
}

/** Every binder injected with `@Bound` so far. */
export function boundBinders(): StaticBindable<unknown>[] {
  return [...binders];
}
