/**
 * The decorators of a resource's API: defaults (`@Default`), deprecated fields
 * (`@Deprecated`), custom validation (`@ValidateWith`) and versions (`@Converts`). The
 * operator enforces them at admission (its webhooks), the CRD carries what the API server
 * can apply itself (schema defaults, every version), and the reconcile-time validation
 * runs the same constraints.
 *
 * @module
 */
import { registerDecorator, type ValidationArguments } from 'class-validator';
import type { JSONValue } from '../lib/declare/openapi.js';
import { Registry, type ComponentClass } from '../lib/declare/registry.js';
import type { Conversion, ConvertsOptions, DefaultValue } from '../lib/declare/webhooks.js';
import { MaestroError } from '../lib/errors/index.js';
import type { ResourceClass } from '../lib/resources/index.js';

export type { Conversion, ConvertsOptions, Converted, DefaultFunction, DefaultValue, ResourceData } from '../lib/declare/webhooks.js';

/** A webhook decorator was used with invalid arguments. */
export class WebhookDecoratorError extends MaestroError {
  readonly code = 'InvalidDecorator';
}

/**
 * A custom check of one property: `undefined` when the value is fine, else what is wrong
 * with it (the message of the violation). `holder` is the object the property belongs to
 * (e.g. the spec), for rules across fields. May be async.
 */
export type FieldValidator<V> = (value: V, holder: Readonly<Record<string, unknown>>) => string | undefined | Promise<string | undefined>;

/** Options of `@ValidateWith`. */
export interface ValidateWithOptions {
  /**
   * The constraint's name in messages (`spec.pages (safePageNames): ...`). Default: the
   * function's name, else `validateWith`.
   */
  name?: string;
  /** Check each element of an array instead of the whole value. */
  each?: boolean;
}

/** The webhook decorators, writing into one registry (see `decoratorsFor`). */
export interface WebhookDecorators {
  Default: (value: DefaultValue) => PropertyDecorator;
  Deprecated: (message: string) => PropertyDecorator;
  Converts: <Spoke, Hub extends object>(hub: ResourceClass & (abstract new (...args: never[]) => Hub), conversion?: Conversion<Spoke, Hub>, options?: ConvertsOptions) => ClassDecorator;
}

const isJSON = (value: unknown, depth = 0): value is JSONValue => {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJSON(v, depth + 1));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).every((v) => isJSON(v, depth + 1));
  return false;
};

const ownerOf = (target: object): ComponentClass => (target as { constructor: ComponentClass }).constructor;

function propertyName(decorator: string, target: object, property: string | symbol): string {
  if (typeof property === 'symbol') throw new WebhookDecoratorError(`${decorator} on ${ownerOf(target).name}.${String(property)}: symbol-keyed properties have no JSON name`);
  return property;
}

/** The webhook decorators bound to `registry` (default: `Registry.default` when a decorator is evaluated). */
export function webhookDecoratorsFor(registry?: Registry): WebhookDecorators {
  const target = (): Registry => registry ?? Registry.default;
  return {
    Default: (value) => (owner, property) => {
      const name = propertyName('@Default', owner, property);
      const type = ownerOf(owner);
      if (typeof value === 'function') {
        target().api.setDefault(type, name, value);
        return;
      }
      if (value === undefined || !isJSON(value)) {
        throw new WebhookDecoratorError(`@Default on ${type.name}.${name} needs a JSON value (string, number, boolean, null, array or plain object) or a function, got ${String(value)}`);
      }
      target().api.setDefault(type, name, value);
      // The API server applies schema defaults itself, on every request and on reads from etcd.
      target().addPropertySchema(type, name, { default: value });
    },
    Deprecated: (message) => (owner, property) => {
      const name = propertyName('@Deprecated', owner, property);
      if (typeof message !== 'string' || message.trim() === '') throw new WebhookDecoratorError(`@Deprecated on ${ownerOf(owner).name}.${name} needs a message saying what to use instead`);
      target().api.setDeprecated(ownerOf(owner), name, message);
    },
    Converts: (hub, conversion, options = {}) => (spoke) => {
      if (typeof hub !== 'function') throw new WebhookDecoratorError(`@Converts on ${spoke.name} needs the hub class, got ${String(hub)}; if it is declared later in the same module, move it above`);
      if (conversion !== undefined && (typeof conversion.toHub !== 'function' || typeof conversion.fromHub !== 'function')) {
        throw new WebhookDecoratorError(`@Converts(${hub.name}) on ${spoke.name}: the conversion needs both toHub(spoke) and fromHub(hub) functions`);
      }
      target().api.setConversion(spoke as unknown as ComponentClass, { hub, conversion, options: { ...options } });
    },
  };
}

const defaults = webhookDecoratorsFor();

/**
 * The value a field gets when an object is created (or updated) without it. A JSON value
 * becomes the CRD schema's `default`, which the API server applies itself (also to objects
 * read from etcd), and the mutating webhook applies it too; a function is run by the
 * mutating webhook only. Defaults apply inside objects that exist: `spec.replicas` is
 * defaulted when `spec` is present. Property initialisers (`replicas = 1`) are not
 * defaults: the API never sees them.
 *
 * @example
 * ```ts
 * class SiteSpec {
 *   @IsInt() @Min(1) @Default(1) replicas!: number;
 *   @IsOptional() @IsString() @Default((spec) => `${String(spec.image)}-site`) title?: string;
 * }
 * ```
 */
export function Default(value: DefaultValue): PropertyDecorator {
  return defaults.Default(value);
}

/**
 * Marks a field deprecated: admission answers every request that sets it with the warning
 * `<path> is deprecated: <message>` (kubectl prints it). The field still works.
 *
 * @example
 * ```ts
 * @IsOptional() @IsString() @Deprecated('use spec.pages') content?: string;
 * ```
 */
export function Deprecated(message: string): PropertyDecorator {
  return defaults.Deprecated(message);
}

/**
 * Declares the class a version of the hub's kind (a spoke) and how it converts to and from
 * the hub. The hub is the storage version; the CRD serves every version, and the operator's
 * conversion webhook converts between them through the hub. Without `conversion`, the two
 * versions have the same fields. Fields the spoke lacks survive a round trip through it.
 *
 * @example
 * ```ts
 * @Resource({ group: 'sites.maestro.dev', version: 'v1alpha1', kind: 'StaticSite' })
 * @Converts(StaticSite, {
 *   toHub: (old: StaticSiteV1alpha1) => ({ spec: { ...rest(old.spec), pages: { 'index.html': old.spec.content } } }),
 *   fromHub: (site: StaticSite) => ({ spec: { ...rest(site.spec), content: site.spec.pages?.['index.html'] ?? '' } }),
 * })
 * export class StaticSiteV1alpha1 { ... }
 * ```
 */
export function Converts<Spoke, Hub extends object>(
  hub: ResourceClass & (abstract new (...args: never[]) => Hub),
  conversion?: Conversion<Spoke, Hub>,
  options?: ConvertsOptions,
): ClassDecorator {
  return defaults.Converts(hub, conversion, options);
}

/** Messages of failed checks, by the object checked and the property (class-validator asks for the message after the check). */
const lastProblem = new WeakMap<object, Map<string, string>>();

/**
 * A custom constraint: `check` runs wherever the class's constraints run (before every
 * reconcile, and at admission), and a message it returns is a violation like any other:
 * `spec.pages (safePageNames): page names must be file names`. For rules OpenAPI cannot
 * express; across fields, put it on the field the message is about.
 *
 * @example
 * ```ts
 * @IsOptional() @IsObject()
 * @ValidateWith(function safePageNames(pages: Record<string, string> | undefined) {
 *   const bad = Object.keys(pages ?? {}).filter((name) => !/^[\w.-]+$/.test(name));
 *   return bad.length ? `page names must be file names: ${bad.join(', ')}` : undefined;
 * })
 * pages?: Record<string, string>;
 * ```
 */
export function ValidateWith<V>(check: FieldValidator<V>, options: ValidateWithOptions = {}): PropertyDecorator {
  if (typeof check !== 'function') throw new WebhookDecoratorError(`@ValidateWith needs a function, got ${String(check)}`);
  const name = options.name ?? (check.name && check.name !== 'anonymous' ? check.name : 'validateWith');
  return (owner, property) => {
    const prop = propertyName('@ValidateWith', owner, property);
    const remember = (args: ValidationArguments, problem: string | undefined): boolean => {
      let own = lastProblem.get(args.object);
      if (problem === undefined) {
        own?.delete(prop);
        return true;
      }
      if (!own) lastProblem.set(args.object, (own = new Map<string, string>()));
      own.set(prop, problem);
      return false;
    };
    registerDecorator({
      name,
      target: ownerOf(owner),
      propertyName: prop,
      options: { each: options.each },
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          const result = check(value as V, args.object as Readonly<Record<string, unknown>>);
          return result instanceof Promise ? result.then((problem) => remember(args, problem)) : remember(args, result);
        },
        defaultMessage(args: ValidationArguments) {
          return lastProblem.get(args.object)?.get(prop) ?? `${prop} is not valid`;
        },
      },
    });
  };
}
