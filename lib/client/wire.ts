/**
 * The one adapter to client-node's internals: its model serializer, which turns wire JSON
 * into client-node's model shape (timestamps as `Date`, renamed properties such as
 * `x_kubernetes_preserve_unknown_fields`) and back. client-node's public API reaches it
 * only through YAML (`loadYaml`, `dumpYaml`), far too slow for a cache. The module is
 * internal to client-node, which is pinned exactly; test/adapters/internals.test.ts fails
 * loudly when an upgrade moves or changes it. Nothing else imports client-node's `dist/`.
 *
 * @module
 */
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
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
  return ObjectSerializer.deserialize(raw, modelName(raw.apiVersion, raw.kind)) as T;
}

/**
 * The wire (JSON) form of an object: client-node model properties that are renamed on the
 * wire (e.g. `x_kubernetes_preserve_unknown_fields`, `_ref`) get their wire names, and
 * `Date`s become RFC 3339 strings. Custom resources pass through unchanged.
 */
export function toWire(obj: KubernetesObject): unknown {
  const type = modelName(obj.apiVersion, obj.kind);
  return type === 'KubernetesObject' ? obj : ObjectSerializer.serialize(obj, type);
}

/** A wire-form value as the client-node model `type` (e.g. `V1CustomResourceDefinition`). */
export function modelFromWire<T>(wire: unknown, type: string): T {
  return ObjectSerializer.deserialize(wire, type) as T;
}

/** A client-node model value of `type` in its wire form (unset fields dropped). */
export function modelToWire(model: unknown, type: string): Record<string, unknown> {
  // JSON round trip: the serializer emits every model field, unset ones as undefined.
  return JSON.parse(JSON.stringify(ObjectSerializer.serialize(model, type))) as Record<string, unknown>;
}
