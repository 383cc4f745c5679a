import { readFile } from 'node:fs/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { describeError } from '../errors/index.js';

/**
 * What the helpers of `maestro-operator/testing` accept wherever they take Kubernetes
 * objects:
 * - an object in wire form, as `JSON.parse` or a YAML parser gives it
 *   (`x-kubernetes-preserve-unknown-fields`, `$ref`, `from`);
 * - a client-node model instance or a plain object with model property names
 *   (`x_kubernetes_preserve_unknown_fields`, `_from`), e.g. from `generateCRD`;
 * - a YAML or JSON string with one or more documents (any string spanning lines, or
 *   starting with `{`);
 * - the path of a YAML or JSON file with one or more documents.
 *
 * Every field reaches the API server under its wire name, whichever form it came in.
 *
 * @example
 * ```ts
 * const sources: ObjectSource[] = ['config/crd/widgets.yaml', yaml.load(text) as KubernetesObject, generateCRD(Site), `apiVersion: v1\nkind: Namespace\nmetadata: { name: x }\n`];
 * ```
 */
export type ObjectSource = KubernetesObject | string;

/** One loaded object and where it came from (for messages). */
export interface LoadedObject {
  object: KubernetesObject;
  origin: string;
}

/** Whether a string is a document rather than a file path. */
export function isDocument(source: string): boolean {
  return source.includes('\n') || source.trimStart().startsWith('{');
}

/**
 * Loads every object of `sources` in order. YAML is parsed as plain data (no model
 * conversion, so no field is lost); empty documents are skipped.
 *
 * @throws {Error} whose message names the file or says the YAML is invalid; callers wrap it.
 */
export async function loadObjects(sources: readonly ObjectSource[]): Promise<LoadedObject[]> {
  const loaded = await Promise.all(sources.map(async (source, index): Promise<LoadedObject[]> => {
    if (typeof source !== 'string') {
      if (!source || typeof source !== 'object' || Array.isArray(source)) {
        throw new ObjectLoadError(`item ${index}`, `expected a Kubernetes object, a YAML string or a file path, got ${source === null ? 'null' : Array.isArray(source) ? 'an array' : typeof source}`);
      }
      return [{ object: source, origin: `item ${index}` }];
    }
    const document = isDocument(source);
    const origin = document ? `YAML item ${index}` : source;
    let text = source;
    if (!document) {
      try {
        text = await readFile(source, 'utf8');
      } catch (err) {
        throw new ObjectLoadError(origin, `cannot read the file: ${describeError(err)} (a YAML string must span lines)`, { cause: err });
      }
    }
    let docs: unknown[];
    try {
      docs = loadAll(text);
    } catch (err) {
      throw new ObjectLoadError(origin, `invalid YAML: ${describeError(err)}`, { cause: err });
    }
    return docs.filter((d) => d != null).map((d, i) => {
      if (typeof d !== 'object' || Array.isArray(d)) throw new ObjectLoadError(origin, `document ${i + 1} is not an object`);
      return { object: d, origin };
    });
  }));
  return loaded.flat();
}

/** A source could not be read or parsed; `origin` names it. */
export class ObjectLoadError extends Error {
  constructor(readonly origin: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`${origin}: ${reason}`, options);
  }
}
