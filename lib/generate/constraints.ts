/**
 * From class-validator constraints to OpenAPI constraints: string lengths and patterns,
 * numeric bounds, enums. `./schema.ts` decides the type of each node; this module adds
 * what the validators say about its values. Internal to the generators.
 *
 * @internal
 * @module
 */
import { ValidationTypes, getMetadataStorage } from 'class-validator';
import type { ComponentClass } from '../declare/registry.js';
import { SchemaGenerationError } from './errors.js';
import type { JSONValue, OpenAPISchema } from '../declare/openapi.js';

/** One class-validator constraint as the metadata storage records it. */
export type Metadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

/** What a node holds, before constraints. `date` is a string with `format: date-time`. */
export type Kind = 'string' | 'date' | 'integer' | 'number' | 'boolean' | 'object';

/** Where a node is, for error messages. */
export interface Site {
  owner: ComponentClass;
  property: string;
  items?: boolean;
}

/** Throws the typed error for a node that cannot be mapped. */
export function fail(site: Site, problem: string): never {
  throw new SchemaGenerationError(site.owner.name || 'anonymous class', site.property, site.items ? `(its elements) ${problem}` : problem);
}

// Reading class-validator metadata: built-in validators are `customValidation` entries with a name.
export const isCustom = (m: Metadata) => m.type === ValidationTypes.CUSTOM_VALIDATION && typeof m.name === 'string';
export const named = (validators: readonly Metadata[], name: string) => validators.filter((m) => isCustom(m) && m.name === name);
export const first = (validators: readonly Metadata[], name: string): Metadata | undefined => named(validators, name)[0];
export const constraint = (m: Metadata | undefined, index = 0): unknown => (m?.constraints as unknown[] | undefined)?.[index];
export const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

export const capitalize = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** The kind of an enum member (only strings, numbers and booleans can be enum members). */
export function kindOfValue(value: unknown): Kind | undefined {
  switch (typeof value) {
    case 'string': return 'string';
    case 'number': return 'number';
    case 'boolean': return 'boolean';
    default: return undefined;
  }
}

/** The allowed values from `@IsIn`, `@IsEnum` and `@Equals` (their intersection), if any. */
export function enumValues(site: Site, custom: readonly Metadata[]): JSONValue[] | undefined {
  const lists: unknown[][] = [];
  for (const m of custom) {
    if (m.name === 'isIn' && Array.isArray(constraint(m))) lists.push(constraint(m) as unknown[]);
    if (m.name === 'equals') lists.push([constraint(m)]);
    if (m.name === 'isEnum') {
      const entity = constraint(m) as Record<string, unknown> | undefined;
      // Numeric TypeScript enums map values back to names; those keys are numbers.
      const valid = constraint(m, 1) ?? Object.entries(entity ?? {}).filter(([key]) => Number.isNaN(Number.parseInt(key, 10))).map(([, v]) => v);
      lists.push(valid as unknown[]);
    }
  }
  if (lists.length === 0) return undefined;
  const values = lists.reduce((a, b) => a.filter((v) => b.includes(v)));
  for (const v of values) {
    if (kindOfValue(v) === undefined) fail(site, `allowed value ${JSON.stringify(v)} is not a string, number or boolean`);
  }
  if (values.length === 0) fail(site, 'its @IsIn / @IsEnum / @Equals constraints allow no value at all');
  return values as JSONValue[];
}

export function stringConstraints(site: Site, custom: readonly Metadata[], schema: OpenAPISchema): void {
  const mins = [
    ...named(custom, 'minLength').map((m) => num(constraint(m))),
    ...named(custom, 'isLength').map((m) => num(constraint(m))),
    first(custom, 'isNotEmpty') ? 1 : undefined,
  ].filter((n): n is number => n !== undefined && n > 0);
  if (mins.length > 0) schema.minLength = Math.max(...mins);
  const maxes = [...named(custom, 'maxLength').map((m) => num(constraint(m))), ...named(custom, 'isLength').map((m) => num(constraint(m, 1)))]
    .filter((n): n is number => n !== undefined);
  if (maxes.length > 0) schema.maxLength = Math.min(...maxes);
  const patterns = named(custom, 'matches').map((m) => goPattern(site, constraint(m), constraint(m, 1)));
  if (patterns.length > 0) schema.pattern = patterns[0]!;
  // One node has one pattern; further ones must all match too.
  if (patterns.length > 1) schema.allOf = patterns.slice(1).map((pattern) => ({ pattern }));
  if (first(custom, 'isUuid')) schema.format = 'uuid';
}

/** A `@Matches` expression as a Go (RE2) pattern, which is what the API server runs. */
function goPattern(site: Site, expression: unknown, modifiers: unknown): string {
  const source = expression instanceof RegExp ? expression.source : String(expression);
  const flags = expression instanceof RegExp ? expression.flags : typeof modifiers === 'string' ? modifiers : '';
  if (/\(\?<?[=!]/.test(source)) fail(site, `pattern /${source}/ uses a lookaround, which Kubernetes (Go's RE2) does not support`);
  if (/\\[1-9]|\\k</.test(source)) fail(site, `pattern /${source}/ uses a backreference, which Kubernetes (Go's RE2) does not support`);
  const go = source.replace(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?P<$1>');
  const inline = [...flags].filter((f) => f === 'i' || f === 'm' || f === 's').join('');
  return inline ? `(?${inline})${go}` : go;
}

interface Bound {
  value: number;
  exclusive: boolean;
}

export function numberConstraints(custom: readonly Metadata[], schema: OpenAPISchema, integer: boolean): void {
  const lower = strictest([
    ...named(custom, 'min').map((m) => ({ value: num(constraint(m)), exclusive: false })),
    ...(first(custom, 'isPositive') ? [{ value: 0, exclusive: true }] : []),
  ], 1);
  const upper = strictest([
    ...named(custom, 'max').map((m) => ({ value: num(constraint(m)), exclusive: false })),
    ...(first(custom, 'isNegative') ? [{ value: 0, exclusive: true }] : []),
  ], -1);
  if (lower) Object.assign(schema, bound(lower, 'minimum', 'exclusiveMinimum', integer, 1));
  if (upper) Object.assign(schema, bound(upper, 'maximum', 'exclusiveMaximum', integer, -1));
  const divisor = num(constraint(first(custom, 'isDivisibleBy')));
  if (divisor !== undefined && divisor > 0) schema.multipleOf = divisor;
}

/** The tightest of several bounds (`direction` 1: the highest lower bound; -1: the lowest upper bound). */
function strictest(bounds: Array<{ value: number | undefined; exclusive: boolean }>, direction: 1 | -1): Bound | undefined {
  let best: Bound | undefined;
  for (const b of bounds) {
    if (b.value === undefined) continue;
    const candidate = { value: b.value, exclusive: b.exclusive };
    if (!best || candidate.value * direction > best.value * direction || (candidate.value === best.value && candidate.exclusive)) best = candidate;
  }
  return best;
}

function bound(b: Bound, key: 'minimum' | 'maximum', exclusiveKey: 'exclusiveMinimum' | 'exclusiveMaximum', integer: boolean, step: 1 | -1): OpenAPISchema {
  // For integers "greater than 0" reads better, and means the same, as "at least 1".
  if (b.exclusive && integer && Number.isInteger(b.value)) return { [key]: b.value + step };
  return b.exclusive ? { [key]: b.value, [exclusiveKey]: true } : { [key]: b.value };
}
