/**
 * Defaulting as the API server does it for schema defaults: a field missing (or `null`)
 * in an object that exists gets its default; shallow fields first, so a defaulted object
 * gets the defaults of its own fields too. The result is the JSON patch a mutating webhook
 * answers with.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { JsonPatchOperation } from '../client/client.js';
import type { DefaultSpec } from '../declare/webhooks.js';
import { cloneJSON, isPlainObject, jsonPointer, type JSONObject } from './json.js';

/** The objects a path's last property belongs to (arrays expanded at `*`), with their concrete paths. */
function holders(root: unknown, parentPath: readonly string[]): Array<{ holder: JSONObject; at: Array<string | number> }> {
  let current: Array<{ value: unknown; at: Array<string | number> }> = [{ value: root, at: [] }];
  for (const segment of parentPath) {
    const next: typeof current = [];
    for (const { value, at } of current) {
      if (segment === '*') {
        if (Array.isArray(value)) value.forEach((item, i) => next.push({ value: item, at: [...at, i] }));
      } else if (isPlainObject(value) && value[segment] !== undefined && value[segment] !== null) {
        next.push({ value: value[segment], at: [...at, segment] });
      }
    }
    current = next;
  }
  return current.filter((c): c is { value: JSONObject; at: Array<string | number> } => isPlainObject(c.value)).map(({ value, at }) => ({ holder: value, at }));
}

/**
 * Applies `defaults` to `object` in place and returns the JSON patch that does the same
 * (empty when nothing was missing). Function defaults that return `undefined` set nothing.
 *
 * @throws whatever a default function throws.
 * @example
 * ```ts
 * applyDefaults(site, [{ path: ['spec', 'replicas'], value: 1 }]);
 * // [{ op: 'add', path: '/spec/replicas', value: 1 }] when site.spec.replicas was missing
 * ```
 */
export function applyDefaults(object: KubernetesObject, defaults: readonly DefaultSpec[]): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  for (const { path, value } of defaults) {
    const property = path[path.length - 1]!;
    for (const { holder, at } of holders(object, path.slice(0, -1))) {
      if (holder[property] !== undefined && holder[property] !== null) continue;
      const resolved = typeof value === 'function' ? value(holder, object) : cloneJSON(value);
      if (resolved === undefined) continue;
      holder[property] = resolved;
      // `add` sets a member whether or not it exists (a `null` is replaced).
      ops.push({ op: 'add', path: jsonPointer([...at, property]), value: cloneJSON(resolved) });
    }
  }
  return ops;
}
