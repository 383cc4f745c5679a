/**
 * Deciding from the cached object alone whether a server-side apply would change
 * anything, so that an operator that restarts over converged objects sends no writes.
 *
 * The API server records, per field manager, the set of fields its last apply owns
 * (`metadata.managedFields[].fieldsV1`). An apply of configuration C by manager M is a
 * no-op when M's set is exactly the set of fields in C (nothing to release, nothing to
 * take over) and every value in C is the live value. Anyone else who changed one of M's
 * fields took it over (an update or a forced apply moves ownership), so a drifted field
 * is missing from M's set and the apply is sent. The check walks C, M's set and the live
 * object together; where it cannot tell (a field the server defaulted into M's set, an
 * empty map, a null), it answers "not a no-op" and the apply is sent: a doubt costs one
 * request, never a missed correction.
 *
 * @module
 */
import { isDeepStrictEqual } from 'node:util';

/** A `fieldsV1` set: `f:<field>`, `k:<key JSON>` (list element by key), `v:<value JSON>` (set element), `.` (the node itself). */
export type FieldSet = { [path: string]: FieldSet };

/** The fields one manager's last apply owns (from its `managedFields` entry). */
export interface AppliedFields {
  /** The API version the set is expressed in. */
  apiVersion: string;
  /** The set itself, as the API server wrote it (`fieldsV1`). */
  fieldsV1: FieldSet;
}

/** A `managedFields` entry as it comes on the wire (or as a client-node model: same names). */
interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  subresource?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
}

/** The entry of `manager`'s applies to the object itself (not to a subresource), if any. */
export function appliedFieldsOf(managedFields: readonly ManagedFieldsEntry[] | undefined, manager: string): AppliedFields | undefined {
  for (const entry of managedFields ?? []) {
    if (entry.manager !== manager || entry.operation !== 'Apply' || entry.subresource) continue;
    if (entry.fieldsType !== 'FieldsV1' || !entry.apiVersion || !isObject(entry.fieldsV1)) return undefined;
    return { apiVersion: entry.apiVersion, fieldsV1: entry.fieldsV1 as FieldSet };
  }
  return undefined;
}

/**
 * Fields the API server keeps out of every managed set; in a configuration they must
 * equal the live value (name, namespace; a resourceVersion is a precondition).
 */
const UNMANAGED_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'selfLink', 'managedFields']);

/**
 * Whether applying `config` (wire form) would leave `live` (wire form) and the manager's
 * field set `applied` unchanged. `false` whenever it cannot be sure.
 */
export function applyWouldBeNoOp(config: unknown, live: unknown, applied: AppliedFields | undefined): boolean {
  if (!applied || !isObject(config) || !isObject(live)) return false;
  if (config['apiVersion'] !== applied.apiVersion || live['apiVersion'] !== config['apiVersion'] || live['kind'] !== config['kind']) return false;
  const fields = applied.fieldsV1;
  let owned = 0;
  for (const [key, value] of Object.entries(config)) {
    if (key === 'apiVersion' || key === 'kind' || value === undefined) continue;
    if (key === 'metadata') {
      if (!isObject(value) || !isObject(live['metadata'])) return false;
      const liveMeta = live['metadata'];
      const managed: Record<string, unknown> = {};
      for (const [field, v] of Object.entries(value)) {
        if (v === undefined) continue;
        if (UNMANAGED_METADATA.has(field)) {
          if (!isDeepStrictEqual(v, liveMeta[field])) return false;
        } else {
          managed[field] = v;
        }
      }
      const metaFields = fields['f:metadata'];
      if (Object.keys(managed).length === 0) continue;
      if (!metaFields || !sameObject(managed, metaFields, liveMeta)) return false;
      owned++;
      continue;
    }
    const child = fields[`f:${key}`];
    if (!child || !sameValue(value, child, live[key])) return false;
    owned++;
  }
  return countFields(fields) === owned;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `f:` entries of a set node (its owned fields); any `k:`/`v:`/`i:` entry makes it -1 (not an object). */
function countFields(fields: FieldSet): number {
  let count = 0;
  for (const key of Object.keys(fields)) {
    if (key === '.') continue;
    if (!key.startsWith('f:')) return -1;
    count++;
  }
  return count;
}

/** A set node that owns the value as a whole (a leaf, or an atomic map or list). */
function isLeaf(fields: FieldSet): boolean {
  for (const key of Object.keys(fields)) if (key !== '.') return false;
  return true;
}

function sameValue(config: unknown, fields: FieldSet, live: unknown): boolean {
  if (config === null || config === undefined) return false;
  if (typeof config !== 'object') return isLeaf(fields) && config === live;
  // An atomic map or list: owned and replaced as a whole.
  if (isLeaf(fields)) return Object.keys(config).length > 0 && isDeepStrictEqual(config, live);
  if (Array.isArray(config)) return sameList(config, fields, live);
  return sameObject(config as Record<string, unknown>, fields, live);
}

function sameObject(config: Record<string, unknown>, fields: FieldSet, live: unknown): boolean {
  if (!isObject(live)) return false;
  // Fields left undefined are not sent (JSON drops them).
  const keys = Object.keys(config).filter((key) => config[key] !== undefined);
  if (keys.length === 0) return false;
  for (const key of keys) {
    const child = fields[`f:${key}`];
    if (!child || !sameValue(config[key], child, live[key])) return false;
  }
  return countFields(fields) === keys.length;
}

/** A list whose elements are identified by key fields (`k:`) or by value (`v:`). */
function sameList(config: unknown[], fields: FieldSet, live: unknown): boolean {
  if (!Array.isArray(live)) return false;
  const entries = Object.keys(fields).filter((key) => key !== '.');
  if (entries.length !== config.length) return false;
  const used = new Set<string>();
  let lastIndex = -1;
  for (const element of config) {
    let matched: string | undefined;
    let index = -1;
    for (const entry of entries) {
      if (used.has(entry)) continue;
      if (entry.startsWith('k:') && isObject(element)) {
        const key = parseKey(entry);
        if (!key || !keyMatches(element, key, fields[entry]!)) continue;
        index = live.findIndex((item) => isObject(item) && Object.entries(key).every(([f, v]) => isDeepStrictEqual(item[f], v)));
      } else if (entry.startsWith('v:')) {
        const value = parseJson(entry.slice(2));
        if (!isDeepStrictEqual(element, value)) continue;
        index = live.findIndex((item) => isDeepStrictEqual(item, value));
      } else {
        continue;
      }
      matched = entry;
      break;
    }
    // Applied lists keep the configuration's order: a different order is a change.
    if (matched === undefined || index <= lastIndex) return false;
    lastIndex = index;
    used.add(matched);
    if (!matched.startsWith('k:')) continue;
    const elementFields = fields[matched]!;
    // An atomic element (an owner reference) is owned as a whole: its set names only its key.
    if (isLeaf(elementFields) ? !isDeepStrictEqual(element, live[index]) : !sameObject(element as Record<string, unknown>, elementFields, live[index])) return false;
  }
  return true;
}

/**
 * Whether a configured list element is the one of key `key`. A key field the
 * configuration leaves out matches only when it is not in the manager's set: the server
 * defaulted it (a Service port's `protocol`); a field the manager had set and no longer
 * does is a change.
 */
function keyMatches(element: Record<string, unknown>, key: Record<string, unknown>, fields: FieldSet): boolean {
  for (const [field, value] of Object.entries(key)) {
    if (field in element) {
      if (!isDeepStrictEqual(element[field], value)) return false;
    } else if (fields[`f:${field}`]) {
      return false;
    }
  }
  return true;
}

function parseKey(entry: string): Record<string, unknown> | undefined {
  const key = parseJson(entry.slice(2));
  return isObject(key) ? key : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
