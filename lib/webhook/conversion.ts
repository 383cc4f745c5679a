/**
 * Conversion between the versions of a kind, through its hub (controller-runtime's
 * hub-and-spoke model), lossless for what a spoke cannot hold.
 *
 * A spoke's `fromHub` drops what the spoke has no field for. So that a round trip through
 * the spoke loses nothing (a v1 object read and written back as v1alpha1 by an older
 * client), Maestro does what Kubernetes' own types do: when the spoke cannot represent the
 * hub object exactly (converting it back would not give the same object), the hub's fields
 * go into the annotation {@link CONVERSION_DATA_ANNOTATION} of the spoke object. Converting
 * that spoke object back restores, from the annotation, every part that the spoke's view
 * did not change since: edits made through the spoke win, everything else comes back.
 *
 * @module
 */
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import type { VersionSpec, WebhookSpec } from '../declare/webhooks.js';
import { describeError } from '../errors/index.js';
import { ConversionError } from './errors.js';
import { cloneJSON, isPlainObject, jsonEqual, type JSONObject } from './json.js';
import type { ConversionReview } from './types.js';

/** The annotation carrying the hub's fields on spoke objects that cannot hold them all. */
export const CONVERSION_DATA_ANNOTATION = 'maestro.dev/conversion-data';

const ENVELOPE = new Set(['apiVersion', 'kind', 'metadata']);

/** An object's fields besides apiVersion, kind and metadata. */
function dataOf(obj: object): JSONObject {
  const data: JSONObject = {};
  for (const [key, value] of Object.entries(obj)) if (!ENVELOPE.has(key) && value !== undefined) data[key] = cloneJSON(value);
  return data;
}

/** Puts back into `target` what `roundTripped` lost of `original`, where `target` still agrees with `roundTripped`. */
function restore(target: JSONObject, original: JSONObject, roundTripped: JSONObject): void {
  for (const key of new Set([...Object.keys(original), ...Object.keys(roundTripped)])) {
    const o = original[key];
    const r = roundTripped[key];
    if (jsonEqual(o, r)) continue;
    const t = target[key];
    if (isPlainObject(o) && isPlainObject(r) && isPlainObject(t)) {
      restore(t, o, r);
    } else if (jsonEqual(t, r)) {
      // The spoke's view of this field is unchanged: what the hub had is still right.
      if (o === undefined) delete target[key];
      else target[key] = cloneJSON(o);
    }
  }
}

/**
 * Converts objects of one kind between its versions (see the module documentation).
 *
 * @example
 * ```ts
 * const converter = new Converter(spec.webhooks[0]);
 * const v1 = converter.convert(v1alpha1Site, 'sites.maestro.dev/v1');
 * ```
 */
export class Converter {
  readonly #spec: WebhookSpec;
  readonly #byApiVersion: ReadonlyMap<string, VersionSpec>;

  constructor(spec: WebhookSpec) {
    this.#spec = spec;
    this.#byApiVersion = new Map(spec.versions.map((v) => [v.resource.apiVersion, v]));
  }

  /** The version spec of an apiVersion such as `sites.maestro.dev/v1`, if the kind has it. */
  version(apiVersion: string | undefined): VersionSpec | undefined {
    return apiVersion === undefined ? undefined : this.#byApiVersion.get(apiVersion);
  }

  /**
   * `obj` in `desiredAPIVersion`, through the hub.
   *
   * @throws {@link ConversionError} for an unknown version or kind, or when a conversion function throws.
   */
  convert(obj: KubernetesObject, desiredAPIVersion: string): KubernetesObject {
    const from = this.#versionOf(obj);
    const to = this.#byApiVersion.get(desiredAPIVersion);
    if (!to) throw new ConversionError(`${this.#spec.kind}.${this.#spec.group} has no version ${desiredAPIVersion}`);
    if (from === to) return cloneJSON(obj);
    const hub = from.hub ? cloneJSON(obj) : this.toHub(obj);
    return to.hub ? hub : this.fromHub(hub, to);
  }

  /** `obj` (of any version of the kind) as the hub, with the fields its annotation carried restored. */
  toHub(obj: KubernetesObject): KubernetesObject {
    const from = this.#versionOf(obj);
    if (from.hub) return cloneJSON(obj);
    const metadata = cloneJSON(obj.metadata ?? {});
    const carried = parseCarried(metadata.annotations?.[CONVERSION_DATA_ANNOTATION]);
    if (metadata.annotations) {
      delete metadata.annotations[CONVERSION_DATA_ANNOTATION];
      if (Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
    }
    const spoke = { ...cloneJSON(obj), metadata };
    const hub = this.#call(from, 'toHub', spoke, this.#spec.hub);
    if (carried) {
      const original = { apiVersion: this.#spec.hub.resource.apiVersion, kind: this.#spec.kind, metadata: cloneJSON(metadata), ...carried };
      const roundTripped = this.#call(from, 'toHub', this.#call(from, 'fromHub', original, from), this.#spec.hub);
      restore(hub as unknown as JSONObject, carried, dataOf(roundTripped));
    }
    return hub;
  }

  /** A hub object as version `to`, carrying in an annotation what `to` cannot hold. */
  fromHub(hub: KubernetesObject, to: VersionSpec): KubernetesObject {
    if (to.hub) return cloneJSON(hub);
    const spoke = this.#call(to, 'fromHub', hub, to);
    const back = this.#call(to, 'toHub', spoke, this.#spec.hub);
    const data = dataOf(hub);
    if (!jsonEqual(data, dataOf(back))) {
      spoke.metadata = { ...spoke.metadata, annotations: { ...spoke.metadata?.annotations, [CONVERSION_DATA_ANNOTATION]: JSON.stringify(data) } };
    }
    return spoke;
  }

  #versionOf(obj: KubernetesObject): VersionSpec {
    const version = this.#byApiVersion.get(obj?.apiVersion ?? '');
    if (!version || obj.kind !== this.#spec.kind) {
      throw new ConversionError(`cannot convert ${obj?.kind ?? '?'} (${obj?.apiVersion ?? '?'}): not a version of ${this.#spec.kind}.${this.#spec.group} this operator serves`);
    }
    return version;
  }

  /**
   * Runs a spoke's conversion function (or copies the fields when it has none) and builds
   * the target object: its apiVersion and kind, the source's metadata with the labels and
   * annotations the function returned, and the source's status unless the function
   * returned one.
   */
  #call(spoke: VersionSpec, direction: 'toHub' | 'fromHub', source: KubernetesObject, target: VersionSpec): KubernetesObject {
    let result: JSONObject;
    try {
      const conversion = spoke.conversion;
      const input = cloneJSON(source) as never;
      result = !conversion ? dataOf(input) : (direction === 'toHub' ? conversion.toHub(input) : conversion.fromHub(input)) as JSONObject;
    } catch (err) {
      const name = source.metadata?.namespace ? `${source.metadata.namespace}/${source.metadata.name}` : source.metadata?.name;
      throw new ConversionError(`converting ${this.#spec.kind} ${name ?? ''} from ${source.apiVersion} to ${target.resource.apiVersion} failed: ${describeError(err)}`, { cause: err });
    }
    if (!isPlainObject(result)) {
      throw new ConversionError(`${spoke.type.name}'s ${direction} returned ${result === null ? 'null' : typeof result}, not an object`);
    }
    const { metadata: returned, apiVersion: _a, kind: _k, ...fields } = cloneJSON(result);
    const metadata: V1ObjectMeta = cloneJSON(source.metadata ?? {});
    if (isPlainObject(returned)) {
      if (returned.labels !== undefined) metadata.labels = returned.labels as Record<string, string>;
      if (returned.annotations !== undefined) metadata.annotations = returned.annotations as Record<string, string>;
    }
    const converted: JSONObject = { apiVersion: target.resource.apiVersion, kind: this.#spec.kind, metadata, ...fields };
    const status = (source as { status?: unknown }).status;
    if (!('status' in fields) && status !== undefined) converted.status = cloneJSON(status);
    for (const key of Object.keys(converted)) if (converted[key] === undefined) delete converted[key];
    return converted;
  }
}

function parseCarried(value: string | undefined): JSONObject | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isPlainObject(parsed) ? parsed : undefined;
  } catch {
    return undefined; // a damaged annotation: convert what the spoke has
  }
}

/**
 * Answers a ConversionReview for kinds the operator serves: every object converted to
 * `desiredAPIVersion`, or a `Failure` naming the first object that could not be.
 */
export function reviewConversion(converters: ReadonlyMap<string, Converter>, review: ConversionReview): ConversionReview {
  const request = review.request!;
  const convertedObjects: KubernetesObject[] = [];
  try {
    for (const obj of request.objects) {
      const group = (obj?.apiVersion ?? '').split('/')[0] ?? '';
      const converter = converters.get(`${obj?.kind ?? ''}.${group}`);
      if (!converter) throw new ConversionError(`cannot convert ${obj?.kind ?? '?'} (${obj?.apiVersion ?? '?'}): not a kind this operator serves`);
      convertedObjects.push(converter.convert(obj, request.desiredAPIVersion));
    }
  } catch (err) {
    return {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview',
      response: { uid: request.uid, convertedObjects: [], result: { status: 'Failure', message: describeError(err) } },
    };
  }
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview',
    response: { uid: request.uid, convertedObjects, result: { status: 'Success' } },
  };
}
