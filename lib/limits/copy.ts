/**
 * A deep copy that no object can make overflow the stack.
 */

/**
 * A deep copy of data as the API server sends it and the cache holds it: plain objects,
 * arrays, `Date`s (client-node models carry them) and primitives. Objects keep their
 * prototype (a client-node model stays an instance of its class); only own enumerable
 * properties are copied. The walk is iterative, so the depth of the input cannot exhaust
 * the call stack (`structuredClone` recurses and throws `RangeError` on objects nested
 * about 1,600 levels deep, which the API server accepts up to 10,000).
 *
 * Meant for acyclic data (anything parsed from JSON is): a cycle is not detected.
 *
 * @example
 * ```ts
 * const mine = deepCopy(cache.get(resource, 'web', 'default')); // safe to modify
 * ```
 */
export function deepCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const root = shallow(value);
  if (root instanceof Date) return root as T;
  // Pairs of (copy, original) whose members still have to be copied.
  const stack: Array<[Record<string, unknown> | unknown[], object]> = [[root, value]];
  while (stack.length > 0) {
    const [target, source] = stack.pop()!;
    if (Array.isArray(source)) {
      const out = target as unknown[];
      for (let i = 0; i < source.length; i++) {
        const member: unknown = source[i];
        if (member !== null && typeof member === 'object') {
          const copy = shallow(member);
          out[i] = copy;
          if (!(copy instanceof Date)) stack.push([copy, member]);
        } else out[i] = member;
      }
    } else {
      const out = target as Record<string, unknown>;
      for (const key of Object.keys(source)) {
        const member: unknown = (source as Record<string, unknown>)[key];
        if (member !== null && typeof member === 'object') {
          const copy = shallow(member);
          out[key] = copy;
          if (!(copy instanceof Date)) stack.push([copy, member]);
        } else out[key] = member;
      }
    }
  }
  return root as T;
}

/** An empty container of the same kind as `value` (a `Date` is copied whole). */
function shallow(value: object): Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return new Array<unknown>(value.length);
  if (value instanceof Date) return new Date(value.getTime()) as unknown as Record<string, unknown>;
  return Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
}
