/**
 * Label and field selectors: parsed once, matched in memory, sent to the API server as
 * strings. Pure (no I/O), so the declarations can check them before anything runs.
 *
 * @module
 */
import { MaestroError } from '../errors/index.js';

/** A label or field selector could not be parsed. */
export class InvalidSelectorError extends MaestroError {
  readonly code = 'InvalidSelector';
}

type Requirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: ReadonlySet<string> };

/** A parsed label selector: `matches(labels)` tells whether an object's labels match. */
export interface LabelSelector {
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** The selector in Kubernetes' string syntax, for API requests. */
  toString(): string;
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function splitTopLevel(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

// A label value: empty, or up to 63 characters, alphanumeric at both ends, `-_.` inside.
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const validKey = (key: string): boolean => {
  if (!KEY.test(key)) return false;
  const slash = key.lastIndexOf('/');
  return key.length - slash - 1 <= 63 && (slash < 0 || slash <= 253);
};
const validValue = (value: string): boolean => value.length <= 63 && VALUE.test(value);

/** @throws {@link InvalidSelectorError} unless `key` is a label key and every one of `values` a label value. */
function checkLabels(key: string, values: readonly string[], whole: string): void {
  const fail = (why: string) => new InvalidSelectorError(`invalid label selector '${whole}': ${why}`);
  if (!validKey(key)) throw fail(`'${key}' is not a label key (an optional DNS subdomain prefix and '/', then up to 63 characters: alphanumeric at both ends, '-_.' inside)`);
  const bad = values.find((v) => !validValue(v));
  if (bad !== undefined) throw fail(`'${bad}' is not a label value (up to 63 characters: alphanumeric at both ends, '-_.' inside)`);
}

function requirement(text: string, whole: string): Requirement {
  const fail = () => new InvalidSelectorError(`invalid label selector '${whole}': cannot parse '${text}'`);
  const checked = (key: string, values: string[]): void => checkLabels(key, values, whole);
  let match = /^(!)?\s*([^\s!=()]+)$/.exec(text);
  if (match) {
    checked(match[2]!, []);
    return { key: match[2]!, op: match[1] ? 'notexists' : 'exists' };
  }
  match = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s,()]*)$/.exec(text);
  if (match) {
    checked(match[1]!, [match[3]!]);
    return { key: match[1]!, op: match[2] === '!=' ? 'notin' : 'in', values: new Set([match[3]!]) };
  }
  match = /^([^\s!=()]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(text);
  if (match) {
    const values = match[3]!.split(',').map((v) => v.trim());
    checked(match[1]!, values);
    return { key: match[1]!, op: match[2] as 'in' | 'notin', values: new Set(values) };
  }
  throw fail();
}

/**
 * Parses a label selector: a string in Kubernetes' syntax (`app=web,tier!=db`,
 * `env in (a,b)`, `!canary`) or a map of required labels.
 *
 * @example
 * ```ts
 * parseLabelSelector('app=web,env in (prod,staging)').matches({ app: 'web', env: 'prod' }); // true
 * ```
 */
export function parseLabelSelector(selector: string | Readonly<Record<string, string>>): LabelSelector {
  const text = typeof selector === 'string'
    ? selector.trim()
    : Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
  const requirements: Requirement[] = typeof selector === 'string'
    ? splitTopLevel(text).map((part) => requirement(part, text))
    : Object.entries(selector).map(([key, value]) => {
      checkLabels(key, [value], text);
      return { key, op: 'in' as const, values: new Set([value]) };
    });
  return {
    matches(labels) {
      return requirements.every((r) => {
        // Own labels only: `constructor`, `toString`... are valid label keys that every object inherits.
        const value = labels !== undefined && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
        switch (r.op) {
          case 'exists': return value !== undefined;
          case 'notexists': return value === undefined;
          case 'in': return value !== undefined && r.values.has(value);
          case 'notin': return value === undefined || !r.values.has(value);
        }
      });
    },
    toString: () => text,
  };
}

/** A parsed field selector: equality requirements on fields such as `metadata.name`, `spec.nodeName`, `type`. */
export interface FieldSelector {
  readonly requirements: ReadonlyArray<{ readonly field: string; readonly op: '=' | '!='; readonly value: string }>;
  /** Whether `obj` matches (fields read by their dotted path; a missing field is `''`, as on the API server). */
  matches(obj: unknown): boolean;
  /** The selector in Kubernetes' string syntax, requirements sorted (a canonical form). */
  toString(): string;
}

const FIELD = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Splits at commas not escaped with a backslash (the API server's field selector syntax). */
function splitEscaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + text[i + 1]!;
      i++;
    } else if (ch === separator) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

const unescape = (value: string) => value.replace(/\\(.)/g, '$1');
const escape = (value: string) => value.replace(/[\\,=]/g, (c) => `\\${c}`);

function fieldValue(obj: unknown, path: string): string {
  let value: unknown = obj;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return '';
    value = (value as Record<string, unknown>)[key];
  }
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Parses a field selector: a string in Kubernetes' syntax (`metadata.name=web`,
 * `type!=kubernetes.io/tls,metadata.namespace=web`) or a map of required values. Which
 * fields the API server accepts depends on the kind (every kind: `metadata.name` and
 * `metadata.namespace`; e.g. Secrets also `type`, Pods `spec.nodeName` and `status.phase`;
 * custom resources the CRD's `selectableFields`).
 *
 * @throws {@link InvalidSelectorError} for malformed text.
 * @example
 * ```ts
 * parseFieldSelector('type=kubernetes.io/tls').matches({ type: 'kubernetes.io/tls' }); // true
 * ```
 */
export function parseFieldSelector(selector: string | Readonly<Record<string, string>>): FieldSelector {
  const text = typeof selector === 'string'
    ? selector.trim()
    : Object.entries(selector).map(([k, v]) => `${k}=${escape(v)}`).join(',');
  const requirements = splitEscaped(text, ',').map((p) => p.trim()).filter((p) => p.length > 0).map((part) => {
    const match = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!match || !FIELD.test(match[1]!)) throw new InvalidSelectorError(`invalid field selector '${text}': cannot parse '${part}'`);
    return { field: match[1]!, op: match[2] === '!=' ? '!=' as const : '=' as const, value: unescape(match[3]!.trim()) };
  });
  const canonical = requirements.map((r) => `${r.field}${r.op}${escape(r.value)}`).sort().join(',');
  return {
    requirements,
    matches: (obj) => requirements.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '=')),
    toString: () => canonical,
  };
}

/**
 * The canonical text of a label selector (requirements trimmed and sorted), to tell
 * whether two declarations select the same objects.
 *
 * @example
 * ```ts
 * canonicalLabelSelector({ tier: 'web', app: 'site' }); // 'app=site,tier=web'
 * ```
 */
export function canonicalLabelSelector(selector: string | Readonly<Record<string, string>>): string {
  const parsed = parseLabelSelector(selector);
  return splitTopLevel(parsed.toString()).map((p) => p.replace(/\s+/g, ' ')).sort().join(',');
}
