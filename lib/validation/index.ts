/**
 * Validation of custom resources against the class-validator constraints on their class,
 * run before any reconciler so that invalid input becomes a clear condition instead of
 * a failure deep inside a reconciler.
 *
 * @module
 */
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validate, type ValidationError } from 'class-validator';
import type { KubernetesObject } from '@kubernetes/client-node';
import { TerminalError } from '../api/index.js';
import type { ResourceClass } from '../resources/index.js';

/** One violated constraint: where (`spec.replicas`), which constraint (`max`) and why. */
export interface Violation {
  path: string;
  constraint: string;
  message: string;
}

const BUILT_IN_TYPES: ReadonlySet<unknown> = new Set([Object, String, Number, Boolean, Array, Date, Map, Set, Promise, Function]);

/**
 * The properties of each class that carry constraints, its base classes' included. Read
 * once per class: decorators run when a class is defined, before anything is validated,
 * and class-validator's lookup filters all of its metadata on every call, while validation
 * runs before every reconcile.
 */
const constrainedByClass = new WeakMap<object, readonly string[]>();

function validatedProperties(type: ResourceClass | (new () => unknown)): readonly string[] {
  let properties = constrainedByClass.get(type);
  if (!properties) {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
    properties = Object.freeze([...new Set(metadata.map((m) => m.propertyName))]);
    constrainedByClass.set(type, properties);
  }
  return properties;
}

/** Whether a class carries class-validator constraints (directly or through a base class). */
export function hasValidation(type: ResourceClass): boolean {
  return validatedProperties(type).length > 0;
}

/** Whether only the `spec` of the class carries constraints (so a generation found valid stays valid). */
export function specOnlyValidation(type: ResourceClass): boolean {
  return validatedProperties(type).every((property) => property === 'spec');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * Turns a plain object into an instance of `type`, nested objects included: properties
 * typed with a class (`spec!: SiteSpec`) become instances of it even without
 * class-transformer's `@Type`, so users do not have to repeat the type.
 */
function instantiate<T>(type: new () => T, plain: unknown): T {
  const instance = plainToInstance(type, plain) as Record<string, unknown>;
  for (const property of validatedProperties(type)) {
    const declared: unknown = Reflect.getMetadata('design:type', type.prototype as object, property);
    const value = instance[property];
    if (typeof declared === 'function' && !BUILT_IN_TYPES.has(declared) && isPlainObject(value)) {
      instance[property] = instantiate(declared as new () => unknown, value);
    }
  }
  return instance as T;
}

/**
 * A plain object (as parsed from JSON) as an instance of its resource class, nested class
 * properties included: what the constraints and a class's own methods (such as an
 * admission `validate(old?)`) run on.
 */
export function toInstance<T>(type: ResourceClass, plain: unknown): T {
  return instantiate(type as unknown as new () => T, plain);
}

function flatten(errors: ValidationError[], prefix: string, out: Violation[]): Violation[] {
  for (const error of errors) {
    const path = prefix ? (/^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : `${prefix}.${error.property}`) : error.property;
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) out.push({ path, constraint, message });
    if (error.children?.length) flatten(error.children, path, out);
  }
  return out;
}

/**
 * Validates a Kubernetes object against the constraints of its class; an empty array
 * means valid.
 *
 * @example
 * ```ts
 * const violations = await validateResource(StaticSite, site);
 * // [{ path: 'spec.replicas', constraint: 'max', message: 'replicas must not be greater than 10' }]
 * ```
 */
export async function validateResource(type: ResourceClass, obj: KubernetesObject): Promise<Violation[]> {
  const instance = instantiate(type as new () => object, obj);
  const errors = await validate(instance, { forbidUnknownValues: false, validationError: { target: false, value: false } });
  return flatten(errors, '', []);
}

/** `spec.replicas (max): replicas must not be greater than 10; ...`. */
export function describeViolations(violations: Violation[]): string {
  return violations.map((v) => `${v.path} (${v.constraint}): ${v.message}`).join('; ');
}

/**
 * Validates parents before the user's reconcilers run (when the parent class has
 * constraints): an invalid parent fails with a {@link TerminalError} (reason
 * `InvalidSpec`, one entry per violation), which is not retried until the parent
 * changes. Generations found valid are remembered when only `spec` is constrained.
 */
export class SpecValidation<P extends KubernetesObject> {
  /** Generations already found valid, by uid: the spec of a generation never changes. */
  readonly #valid = new Map<string, number>();

  constructor(private readonly type: ResourceClass<P>, private readonly specOnly = specOnlyValidation(type)) {}

  /** @throws {@link TerminalError} `InvalidSpec` listing every violation (or saying why the object could not be validated at all). */
  async validate(parent: P): Promise<void> {
    const uid = parent.metadata?.uid;
    const generation = parent.metadata?.generation;
    const cacheable = this.specOnly && uid !== undefined && generation !== undefined;
    if (cacheable && this.#valid.get(uid) === generation) return;
    let violations: Violation[];
    try {
      violations = await validateResource(this.type, parent);
    } catch (err) {
      // Input that makes validation itself throw (a value of a shape no constraint expects)
      // is invalid too; retrying cannot change the outcome.
      throw new TerminalError('InvalidSpec', `the object cannot be validated: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err });
    }
    if (violations.length > 0) throw new TerminalError('InvalidSpec', describeViolations(violations));
    if (cacheable) {
      this.#valid.delete(uid);
      this.#valid.set(uid, generation);
      if (this.#valid.size > 100_000) this.#valid.delete(this.#valid.keys().next().value!);
    }
  }
}
