/**
 * Small JSON helpers of the webhooks: equality, plain-object tests, JSON pointers.
 *
 * @internal
 * @module
 */

/** A JSON object as parsed (no class instances). */
export type JSONObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JSONObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null;
}

/** Deep equality of JSON values (key order ignored; `undefined` members count as absent). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!jsonEqual(a[key], b[key])) return false;
    return true;
  }
  return false;
}

/** A copy of a JSON value. */
export function cloneJSON<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

/** One RFC 6901 reference token. */
export function pointerToken(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `/spec/ports/0/protocol`. */
export function jsonPointer(path: ReadonlyArray<string | number>): string {
  return path.map((s) => `/${pointerToken(s)}`).join('');
}
