/**
 * Declarations for the API side of a custom resource, and their specs: defaults
 * (`@Default`), deprecated fields (`@Deprecated`), several versions of one kind with
 * conversions to and from the hub (`@Converts`), and admission (validation from the
 * class's constraints, `@ValidateWith` and a `validate(old?)` method). The operator serves
 * them as webhooks; the generators turn them into the CRD and the webhook configurations.
 *
 * Versions: one class per version, each with `@Resource({ group, version, kind })` of the
 * same kind. The **hub** is the version every other one converts to and from; it is also
 * the **storage** version. Every other version (a **spoke**) names the hub with
 * `@Converts(Hub, { toHub, fromHub })`, as controller-runtime's `conversion.Hub` and
 * `Convertible` (`ConvertTo`/`ConvertFrom`) do.
 *
 * @module
 */
import 'reflect-metadata';
import type { KubernetesObject } from '@kubernetes/client-node';
import { getMetadataStorage } from 'class-validator';
import { typeHintOf } from './type-hints.js';
import type { ResourceClass, ResourceInfo, ResourceTable } from '../resources/index.js';
import type { JSONValue } from './openapi.js';
import type { ComponentClass } from './registry.js';

/**
 * A default computed when a request lacks the field (by the mutating webhook only; the API
 * server cannot run it): `holder` is the object the property belongs to (e.g. `spec`),
 * `object` the whole resource. Return `undefined` for no default.
 */
export type DefaultFunction = (holder: Readonly<Record<string, unknown>>, object: Readonly<KubernetesObject>) => JSONValue | undefined;

/** What `@Default` takes: a JSON value (also the schema's `default`), or a function of the object. */
export type DefaultValue = JSONValue | DefaultFunction;

/** The data fields of a resource class (its methods left out). */
export type ResourceData<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: T[K] };

/**
 * What a conversion function returns: the object's fields in the target version, without
 * `apiVersion`, `kind` and `metadata` (Maestro sets those). It may set labels and
 * annotations (the only metadata a conversion may change). Without `status`, the source's
 * status is copied as it is.
 */
export type Converted<T> = Omit<ResourceData<T>, 'apiVersion' | 'kind' | 'metadata' | 'status'> & {
  status?: T extends { status?: infer S } ? S : unknown;
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
};

/**
 * How a spoke version converts to and from its hub (controller-runtime's `ConvertTo` and
 * `ConvertFrom`). Both functions receive the whole object (with its metadata) and must
 * not modify it. Fields the spoke cannot hold are carried over a round trip by Maestro
 * (in an annotation, as Kubernetes' own types do): the functions need to map only what
 * both versions have.
 *
 * @example
 * ```ts
 * const conversion: Conversion<StaticSiteV1alpha1, StaticSite> = {
 *   toHub: (old) => ({ spec: { image: old.spec.image, replicas: old.spec.replicas, pages: { 'index.html': old.spec.content } } }),
 *   fromHub: (site) => ({ spec: { image: site.spec.image, replicas: site.spec.replicas, content: site.spec.pages?.['index.html'] ?? '' } }),
 * };
 * ```
 */
export interface Conversion<Spoke, Hub> {
  /** This version to the hub. */
  toHub(spoke: Spoke): Converted<Hub>;
  /** The hub to this version. */
  fromHub(hub: Hub): Converted<Spoke>;
}

/** Options of `@Converts`. */
export interface ConvertsOptions {
  /**
   * Mark this version deprecated: the API server then adds a warning to every request that
   * uses it (`true` for its standard text, or the text itself).
   */
  deprecated?: boolean | string;
  /** Whether the API server serves this version (default `true`; `false` to retire it while objects remain). */
  served?: boolean;
}

/** A {@link Conversion} of any two classes, as the runtime holds it. */
export interface AnyConversion {
  toHub(spoke: never): object;
  fromHub(hub: never): object;
}

/** A `@Converts` declaration as recorded. */
export interface ConversionDeclaration {
  readonly hub: ResourceClass;
  /** `undefined`: the versions have the same fields (only `apiVersion` changes). */
  readonly conversion: AnyConversion | undefined;
  readonly options: ConvertsOptions;
}

/**
 * What the webhook decorators recorded in a registry: defaults, deprecated fields and
 * conversions, per class. Part of every {@link Registry} (`registry.api`).
 */
export class APIDeclarations {
  readonly #defaults = new Map<ComponentClass, Map<string, DefaultValue>>();
  readonly #deprecated = new Map<ComponentClass, Map<string, string>>();
  readonly #conversions = new Map<ComponentClass, ConversionDeclaration>();

  /** Records `@Default(value)` on a property. */
  setDefault(owner: ComponentClass, property: string, value: DefaultValue): void {
    let own = this.#defaults.get(owner);
    if (!own) this.#defaults.set(owner, (own = new Map<string, DefaultValue>()));
    own.set(property, value);
  }

  /** Records `@Deprecated(message)` on a property. */
  setDeprecated(owner: ComponentClass, property: string, message: string): void {
    let own = this.#deprecated.get(owner);
    if (!own) this.#deprecated.set(owner, (own = new Map<string, string>()));
    own.set(property, message);
  }

  /** Records `@Converts(hub, conversion)` on a spoke class. */
  setConversion(spoke: ComponentClass, declaration: ConversionDeclaration): void {
    this.#conversions.set(spoke, declaration);
  }

  /** The `@Default`s of `type` and its base classes, by property (a subclass's win). */
  defaultsOf(type: ComponentClass): Map<string, DefaultValue> {
    return mergeLineage(type, this.#defaults);
  }

  /** The `@Deprecated` properties of `type` and its base classes, with their messages. */
  deprecationsOf(type: ComponentClass): Map<string, string> {
    return mergeLineage(type, this.#deprecated);
  }

  /** The `@Converts` of `type` (not inherited: each version declares its own). */
  conversionOf(type: ComponentClass): ConversionDeclaration | undefined {
    return this.#conversions.get(type);
  }
}

/** The classes from `type` up its inheritance chain, base classes first (as `lineage` in ./registry.ts, which imports this module). */
function lineageOf(type: ComponentClass): ComponentClass[] {
  const chain: ComponentClass[] = [];
  for (let t: unknown = type; typeof t === 'function' && t !== Function.prototype; t = Object.getPrototypeOf(t)) chain.unshift(t as ComponentClass);
  return chain;
}

function mergeLineage<V>(type: ComponentClass, store: Map<ComponentClass, Map<string, V>>): Map<string, V> {
  const merged = new Map<string, V>();
  for (const t of lineageOf(type)) for (const [k, v] of store.get(t) ?? []) merged.set(k, v);
  return merged;
}

/** A field of a resource, from its root: `['spec', 'replicas']`; `'*'` stands for every element of an array. */
export type FieldPath = readonly string[];

/** `spec.ports[*].protocol`, for messages. */
export function formatFieldPath(path: FieldPath): string {
  return path.reduce((out, segment) => (segment === '*' ? `${out}[*]` : out ? `${out}.${segment}` : segment), '');
}

/** A default of one field. */
export interface DefaultSpec {
  readonly path: FieldPath;
  readonly value: DefaultValue;
}

/** A deprecated field, and the warning for objects that set it. */
export interface DeprecatedFieldSpec {
  readonly path: FieldPath;
  readonly message: string;
}

/** One version of a kind. */
export interface VersionSpec {
  /** The version, e.g. `v1`. */
  readonly name: string;
  readonly type: ResourceClass;
  readonly resource: ResourceInfo;
  /** Whether this is the hub: the storage version, which every other version converts to and from. */
  readonly hub: boolean;
  readonly served: boolean;
  /** The API server's warning for requests that use this version, when it is deprecated. */
  readonly deprecationWarning: string | undefined;
  /** Spokes: the conversion to and from the hub (`undefined`: the same fields). */
  readonly conversion: AnyConversion | undefined;
  /** Whether the class carries class-validator constraints. */
  readonly constraints: boolean;
  /** Whether the class has a `validate(old?)` method, run at admission. */
  readonly validateMethod: boolean;
  /** Defaults, shallow paths first. */
  readonly defaults: readonly DefaultSpec[];
  readonly deprecatedFields: readonly DeprecatedFieldSpec[];
}

/**
 * The API of one custom kind as the operator serves it: its versions (the hub first), and
 * which webhooks it needs. The generators make the CRD's versions and the webhook
 * configurations from it; the operator's webhook server answers for it.
 */
export interface WebhookSpec {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** The hub (storage) version. */
  readonly hub: VersionSpec;
  /** Every version, the hub first, then the others by Kubernetes' version priority. */
  readonly versions: readonly VersionSpec[];
  /** A validating webhook: some version has constraints, a `validate` method or deprecated fields. */
  readonly validating: boolean;
  /** A mutating webhook: some version has defaults. */
  readonly mutating: boolean;
  /** A conversion webhook: more than one version. */
  readonly conversion: boolean;
  /** Where the webhook server answers for this kind. */
  readonly paths: { readonly validate: string; readonly mutate: string; readonly convert: string };
}

/** The path conversion reviews are posted to (one for every kind, as kubebuilder does). */
export const CONVERSION_PATH = '/convert';

/** kubebuilder's webhook paths: `/validate-<group with dashes>-<kind in lower case>`. */
function pathsOf(group: string, kind: string): WebhookSpec['paths'] {
  const id = `${group.replace(/\./g, '-')}-${kind.toLowerCase()}`;
  return { validate: `/validate-${id}`, mutate: `/mutate-${id}`, convert: CONVERSION_PATH };
}

/**
 * Kubernetes' order of versions (GA before beta before alpha, higher numbers first): the
 * order kubectl prefers them in.
 */
export function compareVersionPriority(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0] as const;
    return [m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0, Number(m[1]), Number(m[3] ?? 0)] as const;
  };
  const [pa, pb] = [parse(a), parse(b)];
  return pb[0] - pa[0] || pb[1] - pa[1] || pb[2] - pa[2] || a.localeCompare(b);
}

const BUILT_IN_TYPES: ReadonlySet<unknown> = new Set([Object, String, Number, Boolean, Array, Date, Map, Set, Promise, Function]);

/** The class a property holds (through `@Type` or its declared type), if it is one of the user's. */
function classOf(owner: ComponentClass, property: string): { type: ComponentClass; array: boolean } | undefined {
  let hinted: unknown;
  try {
    hinted = typeHintOf(owner, property);
  } catch {
    hinted = undefined; // a discriminated @Type: no single class to walk into
  }
  const declared: unknown = Reflect.getMetadata('design:type', owner.prototype as object, property);
  const type = hinted ?? declared;
  if (typeof type !== 'function' || BUILT_IN_TYPES.has(type)) return undefined;
  return { type: type as ComponentClass, array: declared === Array };
}

/** The properties of a class that anything describes: constraints, `@Schema`, `@Default`, `@Deprecated`. */
function propertiesOf(type: ComponentClass, api: APIDeclarations, extra: Iterable<string>): string[] {
  const constrained = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).map((m) => m.propertyName);
  return [...new Set([...constrained, ...extra, ...api.defaultsOf(type).keys(), ...api.deprecationsOf(type).keys()])];
}

/** Walks the classes of a resource, collecting defaults and deprecated fields by path. */
function fieldDeclarations(root: ComponentClass, api: APIDeclarations, schemaProperties: (type: ComponentClass) => Iterable<string>) {
  const defaults: DefaultSpec[] = [];
  const deprecated: DeprecatedFieldSpec[] = [];
  const walk = (type: ComponentClass, prefix: string[], stack: ComponentClass[]) => {
    if (stack.includes(type)) return;
    const ownDefaults = api.defaultsOf(type);
    const ownDeprecated = api.deprecationsOf(type);
    for (const property of propertiesOf(type, api, schemaProperties(type))) {
      const path = [...prefix, property];
      if (ownDefaults.has(property)) defaults.push({ path, value: ownDefaults.get(property)! });
      if (ownDeprecated.has(property)) deprecated.push({ path, message: ownDeprecated.get(property)! });
      const nested = classOf(type, property);
      if (nested) walk(nested.type, nested.array ? [...path, '*'] : path, [...stack, type]);
    }
  };
  walk(root, [], []);
  // Shallow first: a defaulted object then gets the defaults of its own fields.
  defaults.sort((a, b) => a.path.length - b.path.length);
  return { defaults, deprecated };
}

const hasConstraints = (type: ComponentClass) => getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).length > 0;

/** What {@link collectWebhookSpecs} needs of a registry. */
export interface APISource {
  readonly resources: ResourceTable;
  readonly api: APIDeclarations;
  propertySchemas(type: ComponentClass): Map<string, unknown>;
}

/**
 * The {@link WebhookSpec} of each custom kind in `resources` (the operator's parents),
 * collecting problems instead of throwing: versions that do not name their hub, two hubs,
 * versions that disagree on the plural or the scope, a `@Converts` across kinds.
 */
export function collectWebhookSpecs(source: APISource, resources: readonly ResourceInfo[]): { webhooks: WebhookSpec[]; problems: string[] } {
  const problems: string[] = [];
  const webhooks: WebhookSpec[] = [];
  const declared = source.resources.declared();
  const seen = new Set<string>();
  for (const resource of resources) {
    if (resource.builtIn) continue;
    const id = `${resource.kind}.${resource.group}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const family = declared.filter(({ resource: r }) => r.group === resource.group && r.kind === resource.kind);
    const spec = webhookSpecOf(source, id, family, problems);
    if (spec) webhooks.push(spec);
  }
  return { webhooks, problems };
}

function webhookSpecOf(
  source: APISource,
  id: string,
  family: ReadonlyArray<{ type: ResourceClass; resource: ResourceInfo }>,
  problems: string[],
): WebhookSpec | undefined {
  const before = problems.length;
  const byVersion = new Map<string, ResourceClass[]>();
  for (const { type, resource } of family) byVersion.set(resource.version, [...(byVersion.get(resource.version) ?? []), type]);
  for (const [version, types] of byVersion) {
    if (types.length > 1) problems.push(`${id} ${version} is declared by several classes (${types.map((t) => t.name).join(', ')}); declare each version once`);
  }
  for (const { type, resource } of family) {
    const conversion = source.api.conversionOf(type);
    if (!conversion) continue;
    const hub = source.resources.tryOf(conversion.hub);
    if (!hub || hub.group !== resource.group || hub.kind !== resource.kind) {
      problems.push(`@Converts(${conversion.hub.name}) on ${type.name}: the hub must be another version of ${id}, declared with @Resource`);
    } else if (source.api.conversionOf(conversion.hub)) {
      problems.push(`@Converts(${conversion.hub.name}) on ${type.name}: ${conversion.hub.name} itself converts to another hub; every version converts to the one hub`);
    } else if (conversion.hub === type) {
      problems.push(`@Converts on ${type.name} names the class itself as the hub`);
    }
  }
  const hubs = family.filter(({ type }) => !source.api.conversionOf(type));
  if (hubs.length > 1) {
    problems.push(`${id} has several versions (${family.map((f) => f.resource.version).join(', ')}) but ${hubs.length} of them do not name a hub: put @Converts(Hub, conversion) on every version except the hub (${hubs.map((h) => h.type.name).join(', ')})`);
  }
  const hubEntry = hubs[0];
  if (!hubEntry) {
    if (problems.length === before) problems.push(`${id}: no version is the hub (every version has @Converts)`);
    return undefined;
  }
  for (const { type, resource } of family) {
    const h = hubEntry.resource;
    if (resource.plural !== h.plural || resource.namespaced !== h.namespaced || resource.shortNames.join() !== h.shortNames.join()) {
      problems.push(`${type.name} (${resource.version}) and ${hubEntry.type.name} (${h.version}) are versions of ${id} but disagree on the plural, scope or short names; declare them alike`);
    }
  }
  if (problems.length > before) return undefined;

  const schemaProperties = (type: ComponentClass) => source.propertySchemas(type).keys();
  const versions = family.map(({ type, resource }): VersionSpec => {
    const conversion = source.api.conversionOf(type);
    const { defaults, deprecated } = fieldDeclarations(type, source.api, schemaProperties);
    const flag = conversion?.options.deprecated;
    return {
      name: resource.version,
      type,
      resource,
      hub: type === hubEntry.type,
      served: conversion?.options.served ?? true,
      deprecationWarning: flag === undefined || flag === false ? undefined
        : typeof flag === 'string' ? flag : `${resource.apiVersion} ${resource.kind} is deprecated; use ${hubEntry.resource.apiVersion} ${resource.kind}`,
      conversion: conversion?.conversion,
      constraints: hasConstraints(type),
      validateMethod: typeof (type.prototype as { validate?: unknown }).validate === 'function',
      defaults,
      deprecatedFields: deprecated,
    };
  });
  versions.sort((a, b) => (a.hub ? -1 : b.hub ? 1 : compareVersionPriority(a.name, b.name)));
  const hub = versions[0]!;
  return {
    group: hub.resource.group,
    kind: hub.resource.kind,
    plural: hub.resource.plural,
    namespaced: hub.resource.namespaced,
    hub,
    versions,
    validating: versions.some((v) => v.constraints || v.validateMethod || v.deprecatedFields.length > 0),
    mutating: versions.some((v) => v.defaults.length > 0),
    conversion: versions.length > 1,
    paths: pathsOf(hub.resource.group, hub.resource.kind),
  };
}
