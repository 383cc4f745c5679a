/**
 * Structural OpenAPI v3 schemas (as Kubernetes CRDs need them) derived from classes: the
 * TypeScript property types the compiler records (`design:type`, emitted for decorated
 * properties), class-validator constraints and class-transformer's `@Type`.
 *
 * Which properties are described: those with at least one class-validator decorator (use
 * `@IsOptional()` or `@Allow()` for a property without constraints) or a {@link Schema}
 * decorator. A property is required unless it has `@IsOptional()` (or `@ValidateIf()`).
 *
 * How the type is found, in this order: `@Type(() => X)`, then `design:type`, then the
 * validators (needed when the TypeScript type is a union, an interface or `Record<…>`,
 * all of which the compiler records as `Object`):
 *
 * | TypeScript / validator                          | schema                                               |
 * |-------------------------------------------------|------------------------------------------------------|
 * | `string`, `@IsString`, string-only validators   | `type: string`                                       |
 * | `number`, `@IsNumber`, `@Min`/`@Max`…           | `type: number`                                       |
 * | `@IsInt`                                        | `type: integer`                                      |
 * | `boolean`, `@IsBoolean`                         | `type: boolean`                                      |
 * | `Date`, `@IsDate`, `@IsRFC3339`                 | `type: string, format: date-time`                    |
 * | a class (`design:type` or `@Type`)              | `type: object` with its properties (recursively)     |
 * | a class without decorated properties            | `type: object, x-kubernetes-preserve-unknown-fields` |
 * | `T[]`, `@IsArray`, `{ each: true }` validators  | `type: array`; items from `@Type` or `each` validators |
 * | `@IsObject`, `@IsNotEmptyObject` (maps)         | `type: object, x-kubernetes-preserve-unknown-fields` |
 *
 * Constraints: `@Min`/`@Max` → `minimum`/`maximum`; `@IsPositive`/`@IsNegative` →
 * exclusive 0 bound (`minimum: 1`/`maximum: -1` for integers); `@IsDivisibleBy` →
 * `multipleOf`; `@MinLength`/`@MaxLength`/`@Length` → `minLength`/`maxLength`;
 * `@IsNotEmpty` on strings → `minLength: 1`; `@Matches(re)` → `pattern` (the source, with
 * `i`/`m`/`s` flags as Go inline flags); `@IsIn`/`@IsEnum`/`@Equals` → `enum`; `@IsUUID`
 * → `format: uuid`; `@ArrayMinSize`/`@ArrayMaxSize`/`@ArrayNotEmpty` →
 * `minItems`/`maxItems`; `@ArrayUnique` on scalars → `x-kubernetes-list-type: set`;
 * `@IsNotEmptyObject` → `minProperties: 1`. Validators with `{ each: true }` constrain the
 * items. Other validators are not mapped: the operator still checks them before
 * reconciling, the API server does not. `@IsDateString`/`@IsISO8601` map to a plain
 * string, since ISO 8601 is broader than the API server's `date-time`.
 *
 * @module
 */
import 'reflect-metadata';
import { ValidationTypes, getMetadataStorage } from 'class-validator';
import { Registry, lineage, type ComponentClass } from '../declare/registry.js';
import type { JSONValue, OpenAPISchema } from '../declare/openapi.js';
import {
  capitalize, constraint, enumValues, fail, first, isCustom, kindOfValue, num, numberConstraints, stringConstraints,
  type Kind, type Metadata, type Site,
} from './constraints.js';
import { SchemaGenerationError } from './errors.js';
import { typeHintOf } from '../declare/type-hints.js';

export type { JSONValue, OpenAPISchema, ValidationRule } from '../declare/openapi.js';

/** Where a derivation is: the classes being described (to find cycles) and the registry of `@Schema` fragments. */
interface Walk {
  readonly stack: readonly ComponentClass[];
  readonly registry: Registry;
}

/** Whether a fragment says what the node is, so that nothing needs deriving. */
function declaresType(fragment: OpenAPISchema | undefined): boolean {
  return fragment !== undefined && (fragment.type !== undefined || fragment['x-kubernetes-preserve-unknown-fields'] === true || fragment['x-kubernetes-int-or-string'] === true);
}


// Validators whose presence says what the value is (class-validator checks typeof first).
const STRING_VALIDATORS = [
  'isString', 'matches', 'minLength', 'maxLength', 'isLength', 'isUuid', 'isNumberString', 'isBooleanString', 'isDecimal',
  'isDateString', 'isIso8601', 'isEmail', 'isUrl', 'isFqdn', 'isIp', 'isAlpha', 'isAlphanumeric', 'isAscii', 'isHexColor',
  'isRgbColor', 'isLowercase', 'isUppercase', 'isJson', 'isJwt', 'isSemVer', 'contains', 'notContains', 'isBase32', 'isBase58',
  'isBase64', 'isHexadecimal', 'isOctal', 'isHash', 'isMimeType', 'isPort', 'isMacAddress', 'isLocale', 'isTimeZone',
  'isMilitaryTime', 'isMongoId', 'isByteLength',
];
const IMPLIED_KIND: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ...STRING_VALIDATORS.map((name) => [name, 'string'] as const),
  ['isRFC3339', 'date'], ['isDate', 'date'],
  ['isInt', 'integer'],
  ['isNumber', 'number'], ['min', 'number'], ['max', 'number'], ['isPositive', 'number'], ['isNegative', 'number'], ['isDivisibleBy', 'number'],
  ['isBoolean', 'boolean'],
  ['isObject', 'object'], ['isNotEmptyObject', 'object'],
]);
const ARRAY_VALIDATORS = new Set(['isArray', 'arrayMinSize', 'arrayMaxSize', 'arrayNotEmpty', 'arrayUnique', 'arrayContains', 'arrayNotContains']);
const DESIGN_KIND: ReadonlyMap<unknown, Kind> = new Map<unknown, Kind>([[String, 'string'], [Number, 'number'], [Boolean, 'boolean'], [Date, 'date']]);
const NO_JSON_FORM: ReadonlySet<unknown> = new Set([Map, Set, WeakMap, WeakSet, Symbol, Function, Promise, BigInt, RegExp]);
const NON_CLASSES: ReadonlySet<unknown> = new Set([Object, Array, ...DESIGN_KIND.keys(), ...NO_JSON_FORM]);

const isClass = (value: unknown): value is ComponentClass => typeof value === 'function' && !NON_CLASSES.has(value);


/** The class-validator metadata of `type` and its base classes, as the runtime's validation reads it. */
function validationMetadata(type: ComponentClass): Metadata[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  // Base classes' properties first, as they are declared first (the sort is stable).
  const chain = lineage(type);
  const depth = (m: Metadata) => chain.indexOf(m.target as ComponentClass);
  return [...metadata].sort((a, b) => depth(a) - depth(b));
}

/**
 * The schema of a class: an object with a property per decorated property (see the module
 * documentation for the mapping).
 *
 * @throws {@link SchemaGenerationError} naming the class and property that cannot be mapped.
 * @example
 * ```ts
 * class Port { @IsInt() @Min(1) @Max(65535) port!: number; @IsOptional() @IsIn(['TCP', 'UDP']) protocol?: string }
 * classSchema(Port);
 * // { type: 'object', properties: { port: { type: 'integer', minimum: 1, maximum: 65535 },
 * //   protocol: { type: 'string', enum: ['TCP', 'UDP'] } }, required: ['port'] }
 * ```
 */
export function classSchema(type: ComponentClass, registry: Registry = Registry.default): OpenAPISchema {
  return objectSchema(type, { stack: [], registry });
}

/** The names of the properties {@link classSchema} describes, in declaration order, and which are optional. */
export function describedProperties(type: ComponentClass, registry: Registry = Registry.default): Array<{ name: string; optional: boolean }> {
  const metadata = validationMetadata(type);
  const names = [...new Set([...metadata.map((m) => m.propertyName), ...registry.propertySchemas(type).keys()])];
  return names.map((name) => ({
    name,
    optional: metadata.some((m) => m.propertyName === name && m.type === ValidationTypes.CONDITIONAL_VALIDATION),
  }));
}

/** The schema of one property of `owner` (used for a resource's top-level fields). */
export function propertySchemaOf(owner: ComponentClass, property: string, registry: Registry = Registry.default): OpenAPISchema {
  const own = validationMetadata(owner).filter((m) => m.propertyName === property);
  return propertySchema(owner, property, own, registry.propertySchemas(owner).get(property), { stack: [owner], registry });
}

function objectSchema(type: ComponentClass, walk: Walk): OpenAPISchema {
  const { stack, registry } = walk;
  if (stack.includes(type)) {
    const cycle = [...stack.slice(stack.indexOf(type)), type].map((t) => t.name).join(' → ');
    throw new SchemaGenerationError(type.name, undefined, `refers to itself (${cycle}); a structural schema cannot describe a recursive type: break the cycle, or put @Schema({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }) on the property`);
  }
  const described = describedProperties(type, registry);
  const fragment = registry.classSchema(type);
  // Nothing is known about the class's fields (e.g. a client-node model): keep whatever comes.
  if (described.length === 0) return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...fragment };
  const metadata = validationMetadata(type);
  const overrides = registry.propertySchemas(type);
  const properties: Record<string, OpenAPISchema> = {};
  for (const { name } of described) {
    properties[name] = propertySchema(type, name, metadata.filter((m) => m.propertyName === name), overrides.get(name), { stack: [...stack, type], registry });
  }
  const required = described.filter((p) => !p.optional).map((p) => p.name);
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), ...fragment };
}

function propertySchema(owner: ComponentClass, property: string, own: readonly Metadata[], override: OpenAPISchema | undefined, walk: Walk): OpenAPISchema {
  const site: Site = { owner, property };
  if (declaresType(override)) return { ...override };
  const designType: unknown = Reflect.getMetadata('design:type', owner.prototype as object, property);
  const hinted = typeHint(site);
  const direct = own.filter((m) => !m.each);
  const each = own.filter((m) => m.each);
  const derived = isArrayProperty(direct, each, designType, hinted)
    ? arraySchema(site, direct, each, designType, hinted, walk)
    : valueSchema(site, direct, hinted ?? designType, walk);
  if (!derived) {
    const declared = typeof designType === 'function' ? designType.name : 'unknown';
    fail(site, `its type is not visible at runtime (design:type ${declared}: unions, interfaces and Record<…> all look like Object): add a validator that names it (@IsString(), @IsInt(), @IsBoolean(), @IsObject() for a map…), @Type(() => X) for a class, or @Schema({ type: … })`);
  }
  if (!override) return derived;
  const merged: OpenAPISchema = { ...derived, ...override };
  // A fragment that describes the fields replaces "keep unknown fields".
  if (override.properties !== undefined || override.additionalProperties !== undefined) delete merged['x-kubernetes-preserve-unknown-fields'];
  return merged;
}

/** The class of `@Type(() => X)`, if the property has one. */
function typeHint(site: Site): unknown {
  try {
    return typeHintOf(site.owner, site.property);
  } catch (err) {
    // `@Type((options) => ...)` picks a class per object (discriminators): nothing static to describe.
    return fail(site, `its @Type function needs an object to choose a class (${err instanceof Error ? err.message : String(err)}): describe it with @Schema({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true })`);
  }
}

function isArrayProperty(direct: readonly Metadata[], each: readonly Metadata[], designType: unknown, hinted: unknown): boolean {
  if (designType === Array) return true;
  if (direct.some((m) => isCustom(m) && ARRAY_VALIDATORS.has(m.name!))) return true;
  // `{ each: true }` on something that is neither an array nor a class: an array is the only JSON form.
  return each.length > 0 && !isClass(hinted ?? designType) && !NO_JSON_FORM.has(designType);
}

function arraySchema(site: Site, direct: readonly Metadata[], each: readonly Metadata[], designType: unknown, hinted: unknown, walk: Walk): OpenAPISchema {
  if (designType !== Array && designType !== Object && designType !== undefined) {
    fail(site, `has array validators but its type is ${(designType as ComponentClass).name}`);
  }
  const itemSite: Site = { ...site, items: true };
  // @ValidateNested() without `each` validates every element of an array too.
  const elementValidators = [...each, ...direct.filter((m) => m.type === ValidationTypes.NESTED_VALIDATION)];
  const items = valueSchema(itemSite, elementValidators, hinted, walk);
  if (!items) fail(site, 'the type of its elements is not visible at runtime: add @Type(() => X) for objects, or a validator with { each: true } such as @IsString({ each: true })');
  const schema: OpenAPISchema = { type: 'array', items };
  const minItems = Math.max(num(constraint(first(direct, 'arrayMinSize'))) ?? 0, first(direct, 'arrayNotEmpty') ? 1 : 0);
  if (minItems > 0) schema.minItems = minItems;
  const maxItems = num(constraint(first(direct, 'arrayMaxSize')));
  if (maxItems !== undefined) schema.maxItems = maxItems;
  const unique = first(direct, 'arrayUnique');
  // A set's items must be scalars; uniqueness by a selector cannot be expressed.
  if (unique && typeof constraint(unique) !== 'function' && items.type !== 'object' && items.type !== 'array') schema['x-kubernetes-list-type'] = 'set';
  return schema;
}

/** The schema of a non-array value, or `undefined` when nothing says what it is. */
function valueSchema(site: Site, validators: readonly Metadata[], declared: unknown, walk: Walk): OpenAPISchema | undefined {
  if (NO_JSON_FORM.has(declared)) fail(site, `its type ${(declared as ComponentClass).name} has no JSON form; use an array or a class instead`);
  const custom = validators.filter(isCustom);
  if (isClass(declared)) {
    const clashing = custom.filter((m) => IMPLIED_KIND.has(m.name!) && IMPLIED_KIND.get(m.name!) !== 'object');
    if (clashing.length > 0) fail(site, `is a ${declared.name} but has @${clashing.map((m) => capitalize(m.name!)).join(', @')}`);
    return objectSchema(declared, walk);
  }
  if (validators.some((m) => m.type === ValidationTypes.NESTED_VALIDATION)) {
    fail(site, '@ValidateNested() needs the class: declare the property with a class type, or add @Type(() => X)');
  }
  const values = enumValues(site, custom);
  const kind = resolveKind(site, custom, declared, values);
  if (!kind) return undefined;
  const schema = baseSchema(kind);
  if (values) schema.enum = values;
  if (kind === 'string') stringConstraints(site, custom, schema);
  if (kind === 'integer' || kind === 'number') numberConstraints(custom, schema, kind === 'integer');
  if (kind === 'object' && first(custom, 'isNotEmptyObject')) schema.minProperties = 1;
  return schema;
}

function baseSchema(kind: Kind): OpenAPISchema {
  switch (kind) {
    case 'date': return { type: 'string', format: 'date-time' };
    // A map whose values no decorator describes (see @Schema for additionalProperties).
    case 'object': return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    default: return { type: kind };
  }
}

/** Combines what the TypeScript type, the validators and the enum values say into one kind. */
function resolveKind(site: Site, custom: readonly Metadata[], declared: unknown, values: JSONValue[] | undefined): Kind | undefined {
  const sources = new Map<Kind, string[]>();
  const add = (kind: Kind | undefined, why: string) => {
    if (kind) sources.set(kind, [...(sources.get(kind) ?? []), why]);
  };
  add(DESIGN_KIND.get(declared), `type ${(declared as ComponentClass | undefined)?.name}`);
  for (const m of custom) add(IMPLIED_KIND.get(m.name!), `@${capitalize(m.name!)}`);
  for (const v of values ?? []) add(kindOfValue(v), `allowed value ${JSON.stringify(v)}`);
  const kinds = new Set(sources.keys());
  // Refinements: an integer is a number; a date-time is a string.
  if (kinds.has('integer')) kinds.delete('number');
  if (kinds.has('date')) kinds.delete('string');
  if (kinds.size > 1) {
    fail(site, `its decorators disagree about its type: ${[...kinds].map((k) => `${k} (${sources.get(k)!.join(', ')})`).join(' vs ')}`);
  }
  const [kind] = kinds;
  if (kind === 'date' && values) fail(site, 'enum constraints on a date-time cannot be expressed');
  return kind;
}
