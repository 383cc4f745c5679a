/**
 * The metadata a metadata-only informer keeps of each object, in the smallest plain object.
 *
 * @module
 * @internal
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';

/**
 * Per list of keys (joined by `,`), the JSON text of an object with those keys, all
 * `null`. V8 gives an object that `JSON.parse` makes exactly one in-object field per key,
 * where a copy built key by key (a literal, a spread, `Object.assign`) has room for 4
 * in-object and puts the rest in a separate properties array that grows 3 at a time: for
 * the usual 6 keys of metadata (name, namespace, uid, resourceVersion, creationTimestamp,
 * labels) 72 bytes instead of 96 (pointers of 8 bytes).
 */
const shapes = new Map<string, string>();
/** The API server writes ObjectMeta's keys in one order, so few lists occur; past this many, copies are made key by key. */
const MAX_SHAPES = 256;

/**
 * A copy of `metadata` without `managedFields` (as a `delete` would leave it, but without
 * turning it into a slower and larger dictionary-mode object): the same keys in the same
 * order, the same values (shared, not copied), and the smallest plain object V8 can hold
 * them in (see {@link shapes}).
 */
export function metadataCopy(metadata: V1ObjectMeta): V1ObjectMeta {
  const source = metadata as Record<string, unknown>;
  let keys = '';
  for (const key in source) {
    if (key === 'managedFields' || !Object.hasOwn(source, key)) continue;
    // `__proto__` would set the copy's prototype rather than be copied, and a comma would make
    // the list of keys ambiguous (the API server sends neither).
    if (key === '__proto__' || key.includes(',')) return copyByKey(source);
    keys += keys ? `,${key}` : key;
  }
  let shape = shapes.get(keys);
  if (shape === undefined) {
    if (shapes.size >= MAX_SHAPES) return copyByKey(source);
    const template: Record<string, null> = {};
    for (const key in source) if (key !== 'managedFields' && Object.hasOwn(source, key)) template[key] = null;
    shapes.set(keys, (shape = JSON.stringify(template)));
  }
  const copy = JSON.parse(shape) as Record<string, unknown>;
  for (const key in source) if (key !== 'managedFields' && Object.hasOwn(source, key)) copy[key] = source[key];
  return copy;
}

function copyByKey(source: Record<string, unknown>): V1ObjectMeta {
  const { managedFields: _managedFields, ...copy } = source;
  return copy;
}
