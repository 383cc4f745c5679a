/**
 * Size and depth limits on the objects an operator acts on, checked without recursion so
 * that no object, however deep, can exhaust the stack.
 */
import { TerminalError } from '../api/index.js';

/** Limits an object must stay within to be reconciled. */
export interface ObjectLimits {
  /**
   * The most bytes the object may take as JSON (as `JSON.stringify` writes it, UTF-8).
   * Default 3 MiB (3,145,728), the API server's own limit on a request body: every object
   * the API server can store is reconciled (etcd takes up to 1.5 MiB per object unless
   * configured otherwise). Lower it to refuse large objects on purpose. Size is a cost,
   * not a danger: every step of the runtime is linear in it.
   */
  maxBytes?: number;
  /**
   * The deepest nesting allowed: the object itself is depth 1, each object or array inside
   * adds one. Default 100; Kubernetes' own kinds nest about 15 deep (a Pod template inside a
   * Deployment), and only schemaless fields (`x-kubernetes-preserve-unknown-fields`) go deeper.
   * Depth is a danger: the API server accepts 10,000 levels, while recursive code overflows
   * the stack far earlier (`structuredClone` at about 1,600 levels, class-transformer's
   * `plainToInstance`, which validation uses, at about 2,300, `JSON.stringify` at about 4,400).
   * At most {@link MAX_DEPTH_LIMIT}.
   */
  maxDepth?: number;
}

/** The defaults of {@link ObjectLimits}. */
export const DEFAULT_OBJECT_LIMITS: Readonly<Required<ObjectLimits>> = Object.freeze({ maxBytes: 3 * 1024 * 1024, maxDepth: 100 });

/**
 * The highest `maxDepth` an operator accepts: well below the depth at which the recursive
 * code a reconcile may run (validation, a reconciler's `JSON.stringify` or
 * `structuredClone`) overflows the stack.
 */
export const MAX_DEPTH_LIMIT = 1000;

/**
 * Problems with limits given as an option (empty when they are fine): each must be a
 * positive integer, `maxDepth` at most {@link MAX_DEPTH_LIMIT}.
 *
 * @example
 * ```ts
 * objectLimitsProblems({ maxDepth: 5000 }); // ['objectLimits.maxDepth must be an integer from 1 to 1000, got 5000']
 * ```
 */
export function objectLimitsProblems(limits: ObjectLimits | undefined): string[] {
  if (limits === undefined) return [];
  if (limits === null || typeof limits !== 'object') return [`objectLimits must be an object such as { maxBytes, maxDepth }, got ${String(limits)}`];
  const problems: string[] = [];
  const { maxBytes, maxDepth } = limits;
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0)) {
    problems.push(`objectLimits.maxBytes must be a positive integer, got ${String(maxBytes)}`);
  }
  if (maxDepth !== undefined && !(Number.isInteger(maxDepth) && maxDepth >= 1 && maxDepth <= MAX_DEPTH_LIMIT)) {
    problems.push(`objectLimits.maxDepth must be an integer from 1 to ${MAX_DEPTH_LIMIT}, got ${String(maxDepth)}`);
  }
  return problems;
}

/** Why an object is refused: the `reason` is meant for a `Ready=False` condition. */
export interface ObjectLimitViolation {
  reason: 'ObjectTooLarge' | 'ObjectTooDeep';
  /** The limit that was exceeded (bytes or levels). */
  limit: number;
  /** A sentence for the condition's message. */
  message: string;
}

/**
 * Bytes `value` takes in JSON when it is a leaf (not an object or array), or undefined when
 * JSON omits it (undefined, functions, symbols as object members).
 */
function leafBytes(value: unknown): number | undefined {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4; // NaN, Infinity → null
    case 'boolean':
      return value ? 4 : 5;
    case 'bigint':
      return String(value).length; // JSON.stringify throws on these; count them anyway
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      return value === null ? 4 : -1; // -1: a container
  }
}

/** Printable ASCII other than `"` and `\\`: JSON writes it as it is. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Bytes a string takes in JSON, quotes and escapes included. */
function stringBytes(value: string): number {
  // Most strings (names, labels, keys) need no escape: their length, without building the
  // JSON (this walk runs before every reconcile, over the whole parent).
  if (PLAIN_ASCII.test(value)) return value.length + 2;
  // JSON.stringify of a string is not recursive: exact size with escapes, natively.
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * Checks `obj` against size and depth limits in one iterative walk that stops as soon as a
 * limit is exceeded, so the work is bounded by the limits, not by the input. The size is
 * what `JSON.stringify(obj)` would produce (Dates and other `toJSON` values as serialized).
 * Returns the first violation found (depth is checked as the walk goes, size as it adds
 * up), or `undefined` when the object is within both limits.
 *
 * @example
 * ```ts
 * const violation = checkObjectLimits(parent, { maxBytes: 512 * 1024 });
 * if (violation) state.addCondition({ type: 'Ready', status: 'False', reason: violation.reason, message: violation.message });
 * ```
 */
export function checkObjectLimits(obj: unknown, limits: ObjectLimits = {}): ObjectLimitViolation | undefined {
  const maxBytes = limits.maxBytes ?? DEFAULT_OBJECT_LIMITS.maxBytes;
  const maxDepth = limits.maxDepth ?? DEFAULT_OBJECT_LIMITS.maxDepth;
  const tooLarge = (): ObjectLimitViolation => ({
    reason: 'ObjectTooLarge', limit: maxBytes,
    message: `the object is larger than ${maxBytes} bytes as JSON; it is not reconciled`,
  });
  const tooDeep = (): ObjectLimitViolation => ({
    reason: 'ObjectTooDeep', limit: maxDepth,
    message: `the object nests deeper than ${maxDepth} levels; it is not reconciled`,
  });

  // An explicit stack, never the call stack: values, and beside each its depth × 2 plus 1
  // when it is an array's item (two arrays of plain values, no tuple per value).
  const values: unknown[] = [obj];
  const places: number[] = [2];
  let bytes = 0;
  while (values.length > 0) {
    let value = values.pop();
    const place = places.pop()!;
    const depth = place >> 1;
    const inArray = (place & 1) === 1;
    if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      // Dates (client-node models carry them) serialize through toJSON; one level suffices.
      value = (value as { toJSON: () => unknown }).toJSON();
    }
    const leaf = leafBytes(value);
    if (leaf === undefined) {
      bytes += inArray ? 4 : 0; // arrays write null; object members were skipped by the parent
    } else if (leaf >= 0) {
      bytes += leaf;
    } else {
      if (depth > maxDepth) return tooDeep();
      bytes += 2; // the brackets or braces
      if (Array.isArray(value)) {
        bytes += Math.max(0, value.length - 1); // commas
        if (bytes > maxBytes) return tooLarge();
        for (let i = value.length - 1; i >= 0; i--) {
          values.push(value[i]);
          places.push(((depth + 1) << 1) | 1);
        }
      } else {
        let members = 0;
        for (const key of Object.keys(value as object)) {
          const member = (value as Record<string, unknown>)[key];
          if (leafBytes(member) === undefined) continue; // JSON omits these members
          bytes += stringBytes(key) + 1 + (members > 0 ? 1 : 0); // "key": and a comma
          members++;
          if (bytes > maxBytes) return tooLarge();
          values.push(member);
          places.push((depth + 1) << 1);
        }
      }
    }
    if (bytes > maxBytes) return tooLarge();
  }
  return undefined;
}

/**
 * Refusal to reconcile an object above the limits: a {@link TerminalError} (no retry until
 * the object changes) whose `reason` becomes the `Ready=False` condition's reason.
 */
export class ObjectLimitError extends TerminalError {
  constructor(readonly violation: ObjectLimitViolation) {
    super(violation.reason, violation.message);
  }
}

/**
 * Throws an {@link ObjectLimitError} when `obj` is above the limits.
 *
 * @example
 * ```ts
 * assertWithinLimits(parent, options.objectLimits); // before any reconciler runs
 * ```
 */
export function assertWithinLimits(obj: unknown, limits?: ObjectLimits): void {
  const violation = checkObjectLimits(obj, limits);
  if (violation) throw new ObjectLimitError(violation);
}
