import { MaestroError } from '../errors/index.js';

/** A label selector string could not be parsed. */
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

function requirement(text: string, whole: string): Requirement {
  const fail = () => new InvalidSelectorError(`invalid label selector '${whole}': cannot parse '${text}'`);
  let match = /^(!)?\s*([^\s!=()]+)$/.exec(text);
  if (match) {
    if (!KEY.test(match[2]!)) throw fail();
    return { key: match[2]!, op: match[1] ? 'notexists' : 'exists' };
  }
  match = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s,()]*)$/.exec(text);
  if (match) {
    if (!KEY.test(match[1]!)) throw fail();
    return { key: match[1]!, op: match[2] === '!=' ? 'notin' : 'in', values: new Set([match[3]!]) };
  }
  match = /^([^\s!=()]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(text);
  if (match) {
    if (!KEY.test(match[1]!)) throw fail();
    const values = match[3]!.split(',').map((v) => v.trim());
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
  const requirements = splitTopLevel(text).map((part) => requirement(part, text));
  return {
    matches(labels) {
      return requirements.every((r) => {
        // Own keys only: a selector on `constructor` must not match Object.prototype's.
        const value = labels && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
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
