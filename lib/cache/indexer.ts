/**
 * Field indexes of a cached kind (client-go's `Indexer`): value → objects, kept up to date
 * as objects are stored and removed, so lookups cost what they find.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { MaestroError, describeError } from '../errors/index.js';
import type { IndexFunction } from '../watch/options.js';

/**
 * A read asked for an index that does not exist: the kind is not cached, or no `@Index`
 * declares that field on it.
 *
 * @example
 * ```ts
 * try { await client.list(Database, { index: { 'spec.secretName': 'db' } }); } catch (err) {
 *   if (err instanceof IndexNotFoundError) console.error(err.message); // names the kind, the field and the fix
 * }
 * ```
 */
export class IndexNotFoundError extends MaestroError {
  readonly code = 'IndexNotFound';
}

/** One index: the field's name and the function giving an object's values. */
export interface IndexDefinition {
  readonly field: string;
  readonly extract: IndexFunction;
}

/** The values `extract` gives for `obj`, as a list of distinct strings; throws what `extract` throws or a TypeError for garbage. */
export function indexValues(extract: IndexFunction, obj: KubernetesObject): string[] {
  const given = extract(obj);
  if (given === undefined || given === null) return [];
  if (typeof given === 'string') return [given];
  if (!Array.isArray(given)) throw new TypeError(`an index function must return a string, an array of strings or nothing, got ${typeof given}`);
  const values = new Set<string>();
  for (const value of given as unknown[]) {
    if (typeof value === 'string') values.add(value);
    else if (value !== undefined && value !== null) throw new TypeError(`an index function returned a ${typeof value} among its values`);
  }
  return [...values];
}

/**
 * The indexes of one store. Objects are identified by a key (`namespace/name`); what each
 * was indexed under is remembered, so re-indexing and removal do not call the index
 * functions on old objects. Lookups give what the store holds of each object (`S`: the
 * object itself unless {@link update} is given another form).
 */
export class Indexer<T extends KubernetesObject = KubernetesObject, S = T> {
  readonly #extract = new Map<string, IndexFunction>();
  /** field → value → key → object. */
  readonly #index = new Map<string, Map<string, Map<string, S>>>();
  /** key → the values per field it is indexed under (only objects with any). */
  readonly #indexed = new Map<string, Map<string, string[]>>();
  readonly #onError: (field: string, obj: T, err: unknown) => void;

  constructor(definitions: readonly IndexDefinition[], onError: (field: string, obj: T, err: unknown) => void = () => undefined) {
    for (const { field, extract } of definitions) {
      this.#extract.set(field, extract);
      this.#index.set(field, new Map());
    }
    this.#onError = onError;
  }

  /** The indexed fields. */
  get fields(): string[] {
    return [...this.#extract.keys()];
  }

  has(field: string): boolean {
    return this.#extract.has(field);
  }

  /**
   * Indexes `obj` under `key`, replacing what that key was indexed under before; lookups
   * give `stored` (default: `obj`).
   */
  update(key: string, obj: T, stored: S = obj as unknown as S): void {
    if (this.#extract.size === 0) return;
    this.remove(key);
    let indexed: Map<string, string[]> | undefined;
    for (const [field, extract] of this.#extract) {
      let values: string[];
      try {
        values = indexValues(extract, obj);
      } catch (err) {
        // The object stays cached; it is only missing from this index.
        this.#onError(field, obj, err);
        continue;
      }
      if (values.length === 0) continue;
      const byValue = this.#index.get(field)!;
      for (const value of values) {
        let keys = byValue.get(value);
        if (!keys) byValue.set(value, (keys = new Map<string, S>()));
        keys.set(key, stored);
      }
      (indexed ??= new Map()).set(field, values);
    }
    if (indexed) this.#indexed.set(key, indexed);
  }

  /** Removes `key` from every index. */
  remove(key: string): void {
    const indexed = this.#indexed.get(key);
    if (!indexed) return;
    this.#indexed.delete(key);
    for (const [field, values] of indexed) {
      const byValue = this.#index.get(field)!;
      for (const value of values) {
        const keys = byValue.get(value);
        keys?.delete(key);
        if (keys?.size === 0) byValue.delete(value);
      }
    }
  }

  /** The objects indexed under `value` for `field` (shared: do not modify them). */
  lookup(field: string, value: string): IterableIterator<[string, S]> | [] {
    return this.#index.get(field)?.get(value)?.entries() ?? [];
  }

  /** Whether `key` is indexed under `value` for `field`. */
  holds(field: string, value: string, key: string): boolean {
    return this.#index.get(field)?.get(value)?.has(key) ?? false;
  }

  /** The values `key` is indexed under for `field`. */
  valuesOf(key: string, field: string): readonly string[] {
    return this.#indexed.get(key)?.get(field) ?? [];
  }

  clear(): void {
    for (const byValue of this.#index.values()) byValue.clear();
    this.#indexed.clear();
  }
}

/** A message for an index function failure. */
export const describeIndexFailure = (field: string, err: unknown) => `index function of '${field}' failed: ${describeError(err)}`;
