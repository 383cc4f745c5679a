/**
 * The one adapter to client-node's internals: its model serializer, which turns wire JSON
 * into client-node's model shape (timestamps as `Date`, renamed properties such as
 * `x_kubernetes_preserve_unknown_fields`) and back. client-node's public API reaches it
 * only through YAML (`loadYaml`, `dumpYaml`), far too slow for a cache. The module is
 * internal to client-node, which is pinned exactly; test/adapters/internals.test.ts fails
 * loudly when an upgrade moves or changes it (the private `getSerializerForObject` included,
 * through which a serializer registered for a kind keeps deciding; its unexported class of
 * custom resources is taken from what its `defaultSerializer` makes). Nothing else imports
 * client-node's `dist/`.
 *
 * @module
 */
import { ObjectSerializer, defaultSerializer } from '@kubernetes/client-node/dist/serializer.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import { isBuiltInGroup } from '../resources/index.js';

/** client-node's model name of a kind (`V1Deployment`), or `KubernetesObject` for custom resources. */
export function modelName(apiVersion: string | undefined, kind: string | undefined): string {
  if (!apiVersion || !kind) return 'KubernetesObject';
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (!isBuiltInGroup(group)) return 'KubernetesObject';
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/**
 * An object as received on the wire (parsed JSON) in client-node's model shape: model
 * classes' fields for built-in kinds (timestamps as `Date`), typed metadata for custom
 * resources (the rest as is).
 */
export function fromWire<T extends KubernetesObject>(raw: KubernetesObject): T {
  return modelFromWire<T>(raw, modelName(raw.apiVersion, raw.kind));
}

/** A wire-form value as the client-node model `type` (e.g. `V1CustomResourceDefinition`), as client-node's `ObjectSerializer.deserialize` gives it. */
export function modelFromWire<T>(wire: unknown, type: string): T {
  // Model, array, map and Date types get a new value from their converter, custom resources
  // theirs; the rest (primitives, a kind with a registered serializer) is client-node's.
  if (wire === null || wire === undefined || registered.getSerializerForObject(wire)) return ObjectSerializer.deserialize(wire, type) as T;
  if (type === CUSTOM_RESOURCE) return customResourceFromWire(wire) as T;
  const converter = converterOf(type);
  return (converter ? converter(wire) : ObjectSerializer.deserialize(wire, type)) as T;
}

/** client-node's type of objects without a model: custom resources. */
const CUSTOM_RESOURCE = 'KubernetesObject';

/**
 * client-node's class of the custom resources it deserializes (its `KubernetesObject`,
 * not exported), taken from one it makes.
 */
const CustomResource = (Object.getPrototypeOf(defaultSerializer.deserialize({ apiVersion: 'v1', kind: 'Probe' }, CUSTOM_RESOURCE, '')) as { constructor: new () => Record<string, unknown> }).constructor;

const RESOURCE_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * A custom resource as client-node's deserializer makes it (an instance of its
 * `KubernetesObject`: `apiVersion`, `kind`, `metadata` as `V1ObjectMeta`, every other field
 * as is), with the converter of `V1ObjectMeta` in place of its per-field type parsing; an
 * object without `apiVersion` and `kind` stays as it is, as there.
 */
function customResourceFromWire(wire: unknown): unknown {
  if (typeof wire !== 'object' || wire === null || !('apiVersion' in wire) || !('kind' in wire)) return wire;
  const fields = wire as Record<string, unknown>;
  const instance = new CustomResource();
  if (fields['apiVersion'] !== undefined) instance['apiVersion'] = fields['apiVersion'];
  if (fields['kind'] !== undefined) instance['kind'] = fields['kind'];
  const metadata = fields['metadata'];
  if (metadata !== undefined) instance['metadata'] = metadata === null ? null : converterOf('V1ObjectMeta')!(metadata);
  for (const key of Object.keys(fields)) if (!RESOURCE_FIELDS.has(key)) instance[key] = fields[key];
  return instance;
}

/** A serializer registered with `ObjectSerializer.registerModel` for an object's kind: it then decides. */
const registered = ObjectSerializer as unknown as { getSerializerForObject(obj: unknown): unknown };

/** Turns a wire value (never null or undefined) into a model value. */
type Converter = (wire: unknown) => unknown;

/** Per type string: its converter, or null when values of it stay as they are. */
const converters = new Map<string, Converter | null>();

// The type strings of client-node's models, as its ObjectSerializer reads them.
const PRIMITIVES = new Set(['string', 'boolean', 'double', 'integer', 'long', 'float', 'number', 'any']);
const NULLABLE = ' | null';
const OPTIONAL = ' | undefined';

/**
 * The converter of a client-node type string, built once per type: what client-node's
 * `ObjectSerializer.deserialize` does for that type, without parsing the type string and
 * looking the model up again for every field of every object (1.5 instead of 4.0 µs per
 * ConfigMap or Service, and the informers run it on every watch event; bench/README.md). The same results, to the
 * prototype: test/client/wire-deserialize.test.ts compares the two on every model.
 * Models with a discriminator (none in client-node 2.0.1) are left to client-node.
 */
function converterOf(type: string): Converter | null {
  const known = converters.get(type);
  if (known !== undefined) return known;
  let converter: Converter | null;
  if (PRIMITIVES.has(type.toLowerCase())) converter = null;
  else if (type.endsWith(NULLABLE)) converter = converterOf(type.slice(0, -NULLABLE.length));
  else if (type.endsWith(OPTIONAL)) converter = converterOf(type.slice(0, -OPTIONAL.length));
  else if (ARRAY.test(type)) converter = arrayConverter(ARRAY.exec(type)![1]!);
  else if (MAP.test(type)) converter = mapConverter(MAP.exec(type)![1]!);
  else if (type === 'Date') converter = (wire) => new Date(wire as string);
  else converter = modelConverter(type);
  converters.set(type, converter);
  return converter;
}

// Converters of items, values and fields are looked up on first use: models refer to one
// another in cycles (a schema's `items` is a schema).
function arrayConverter(itemType: string): Converter {
  let item: Converter | null | undefined;
  return (wire) => {
    if (item === undefined) item = converterOf(itemType);
    const out: unknown[] = [];
    for (const value of wire as Iterable<unknown>) out.push(item && value !== null && value !== undefined ? item(value) : value);
    return out;
  };
}

function mapConverter(valueType: string): Converter {
  let value: Converter | null | undefined;
  return (wire) => {
    if (value === undefined) value = converterOf(valueType);
    const out: Record<string, unknown> = {};
    // for...in, as client-node: a string given for a map becomes one of its characters by index.
    for (const key in wire as Record<string, unknown>) {
      const v = (wire as Record<string, unknown>)[key];
      out[key] = value && v !== null && v !== undefined ? value(v) : v;
    }
    return out;
  };
}

interface ModelClassWithTypes {
  new (): Record<string, unknown>;
  discriminator?: string;
  getAttributeTypeMap(): Attribute[];
}

/**
 * client-node's model class of a type string (`V1ConfigMap`), or undefined for other types:
 * the class of what its serializer makes of `{}` for that type. Not a namespace import of
 * its 757 models, which a bundle turns into 757 getter functions to compile and define at
 * every start (0.1 MB of cached code; bench/README.md).
 */
function modelClass(type: string): ModelClassWithTypes | undefined {
  // Model names start with a capital: not an array or map type string (`{}` is no array),
  // nor a name the serializer's plain-object type map inherits (`constructor`, `toString`).
  if (!/^[A-Z]\w*$/.test(type)) return undefined;
  const made: unknown = ObjectSerializer.deserialize({}, type);
  const Model = typeof made === 'object' && made !== null ? (Object.getPrototypeOf(made) as { constructor?: unknown } | null)?.constructor : undefined;
  return typeof Model === 'function' && typeof (Model as Partial<ModelClassWithTypes>).getAttributeTypeMap === 'function' ? Model as ModelClassWithTypes : undefined;
}

function modelConverter(type: string): Converter | null {
  const Model = modelClass(type);
  if (Model === undefined) return null;
  if (Model.discriminator != null) return (wire) => ObjectSerializer.deserialize(wire, type) as unknown;
  const fields = Model.getAttributeTypeMap().map((a) => ({ name: a.name, wireName: a.baseName, type: a.type, convert: undefined as Converter | null | undefined }));
  return (wire) => {
    const instance = new Model();
    for (const field of fields) {
      const value = (wire as Record<string, unknown>)[field.wireName];
      if (value === undefined) continue;
      if (value === null) {
        instance[field.name] = null;
        continue;
      }
      if (field.convert === undefined) field.convert = converterOf(field.type);
      instance[field.name] = field.convert ? field.convert(value) : value;
    }
    return instance;
  };
}

/**
 * The wire (JSON) form of an object, whichever form it was given in: client-node model
 * instances, plain objects typed with model property names (`_from`,
 * `x_kubernetes_preserve_unknown_fields`), plain objects in wire form (as parsed from
 * YAML or JSON: `from`, `x-kubernetes-preserve-unknown-fields`), or any mix of them.
 *
 * Unlike client-node's `ObjectSerializer.serialize`, which reads only model property names
 * and so silently drops every field whose wire name differs (and every field its models do
 * not know), this keeps every field: a model name gets its wire name, a wire name stays,
 * anything else (a field newer than client-node's models, the content of untyped fields
 * such as a schema's `default`) passes through verbatim. Dates become RFC 3339 strings.
 * When an object carries the same field under both names, the model name wins.
 * Custom resources have no models: they pass through unchanged.
 */
export function toWire(obj: KubernetesObject): unknown {
  const type = modelName(obj.apiVersion, obj.kind);
  return type === 'KubernetesObject' ? obj : serializeAs(obj, type, '');
}

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

/** Per model: its attributes by model name and by wire name. */
interface ModelFields {
  byName: Map<string, Attribute>;
  byWireName: Map<string, Attribute>;
}

const modelFields = new Map<string, ModelFields | undefined>();

/**
 * Untyped (`any`) fields of client-node's models that hold schemas: typed here so that
 * model-named keys inside them (`x_kubernetes_int_or_string` in `items`) get wire names.
 * Values that are not objects (`additionalProperties: false`) pass through.
 */
const untypedSchemaFields: Record<string, Record<string, string>> = {
  V1JSONSchemaProps: {
    items: 'V1JSONSchemaProps',
    additionalProperties: 'V1JSONSchemaProps',
    additionalItems: 'V1JSONSchemaProps',
    dependencies: '{ [key: string]: V1JSONSchemaProps; }',
  },
};

function fieldsOf(type: string): ModelFields | undefined {
  if (modelFields.has(type)) return modelFields.get(type);
  const model = modelClass(type);
  let fields: ModelFields | undefined;
  if (model) {
    const overrides = untypedSchemaFields[type] ?? {};
    const attributes = model.getAttributeTypeMap().map((a) => (overrides[a.name] ? { ...a, type: overrides[a.name]! } : a));
    fields = {
      byName: new Map(attributes.map((a) => [a.name, a])),
      byWireName: new Map(attributes.map((a) => [a.baseName, a])),
    };
  }
  modelFields.set(type, fields);
  return fields;
}

/** The model type of a class instance (`new V1JSONSchemaProps()`), when it is one. */
function instanceType(value: object): string | undefined {
  const name = (value.constructor as { name?: string } | undefined)?.name;
  return name && name !== 'Object' && fieldsOf(name) ? name : undefined;
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

function serializeAs(value: unknown, type: string, format: string): unknown {
  if (value === null || value === undefined) return value;
  if (value instanceof Date) return serializeDate(value, format);
  if (typeof value !== 'object') return value;
  const array = ARRAY.exec(type);
  if (array) return Array.isArray(value) ? value.map((v) => serializeAs(v, array[1]!, format)) : serializeUntyped(value);
  const map = MAP.exec(type);
  if (map) return Array.isArray(value) ? serializeUntyped(value) : mapValues(value, (v) => serializeAs(v, map[1]!, format));
  // A model instance is serialised as its own class, whatever the declared type.
  const modelType = instanceType(value) ?? type;
  const fields = fieldsOf(modelType);
  if (!fields) return serializeUntyped(value);
  if (Array.isArray(value)) return value.map((v) => serializeAs(v, modelType, format));
  const out: Record<string, unknown> = {};
  const fromModelName = new Set<string>();
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const attribute = fields.byName.get(key) ?? fields.byWireName.get(key);
    if (!attribute) {
      out[key] = serializeUntyped(v);
      continue;
    }
    const isModelName = fields.byName.has(key);
    // The same field under both names: the model name wins, in either order.
    if (!isModelName && fromModelName.has(attribute.baseName)) continue;
    if (isModelName) fromModelName.add(attribute.baseName);
    out[attribute.baseName] = serializeAs(v, attribute.type, attribute.format);
  }
  return out;
}

/**
 * A value without a declared type (user data such as a schema's `default`, or a field
 * client-node does not model): kept as is, except that model instances and Dates inside
 * it are serialised.
 */
function serializeUntyped(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(serializeUntyped);
  const modelType = instanceType(value);
  if (modelType) return serializeAs(value, modelType, '');
  return mapValues(value, serializeUntyped);
}

function mapValues(value: object, f: (v: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = f(v);
  return out;
}

/** RFC 3339, as the API server parses it: `date`, `date-time`, or `date-time-micro` (six fraction digits). */
function serializeDate(date: Date, format: string): string {
  const iso = date.toISOString();
  if (format === 'date') return iso.slice(0, 10);
  if (format === 'date-time-micro') return iso.replace(/\.(\d{3})Z$/, '.$1000Z');
  return iso;
}

/** A client-node model value of `type` in its wire form (unset fields dropped). */
export function modelToWire(model: unknown, type: string): Record<string, unknown> {
  // JSON round trip: the serializer emits every model field, unset ones as undefined.
  return JSON.parse(JSON.stringify(ObjectSerializer.serialize(model, type))) as Record<string, unknown>;
}
