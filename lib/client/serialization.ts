// Objects from watches get the same shape as objects from requests: client-node's model
// classes for built-in kinds (timestamps as Date), plain objects with typed metadata for
// custom resources. These two modules are internal to client-node (pinned exactly in the
// lockfile); test/cache checks the shape so an upgrade that moves them fails loudly.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import type { KubernetesObject } from '@kubernetes/client-node';

/** Deserialises an object as received on the wire (JSON) into client-node's model shape. */
export function fromWire<T extends KubernetesObject>(raw: KubernetesObject): T {
  return ObjectSerializer.deserialize(raw, getSerializationType(raw.apiVersion, raw.kind)) as T;
}

/**
 * The wire (JSON) form of an object: client-node model properties that are renamed on
 * the wire (e.g. `xKubernetesPreserveUnknownFields`, `_ref`) get their wire names, and
 * Dates become RFC 3339 strings. Custom resources pass through unchanged.
 */
export function toWire(obj: KubernetesObject): unknown {
  const type = getSerializationType(obj.apiVersion, obj.kind);
  return type === 'KubernetesObject' ? obj : ObjectSerializer.serialize(obj, type);
}
