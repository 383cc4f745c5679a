/**
 * Validating and mutating admission of one kind, from its classes.
 *
 * Validation of an object of version V (CREATE and UPDATE of the resource itself, not of
 * its status):
 * 1. the class-validator constraints of V's class and, when V is not the hub, of the hub
 *    class on the object converted to the hub: the very check the operator runs before
 *    reconciling, so a refusal says what the `InvalidSpec` condition would say
 *    (`describeViolations`);
 * 2. on UPDATE, violations the old object already had do not refuse the update (the API
 *    server's ratcheting of schema validation): they come back as warnings, so objects
 *    admitted before a rule existed can still be labelled, and finalizers removed;
 * 3. the `validate(old?)` methods of V's class and the hub class (update rules such as
 *    immutable fields): a string or strings returned are further reasons to refuse;
 * 4. deprecated fields the object sets become warnings.
 *
 * Objects being deleted are always admitted (only finalizers change then). Mutation applies
 * V's defaults and answers with a JSON patch.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { VersionSpec, WebhookSpec } from '../declare/webhooks.js';
import { formatFieldPath } from '../declare/webhooks.js';
import { describeError } from '../errors/index.js';
import { truncateConditionMessage } from '../limits/index.js';
import { describeViolations, toInstance, validateResource, type Violation } from '../validation/index.js';
import type { Converter } from './conversion.js';
import { applyDefaults } from './defaults.js';
import { cloneJSON, isPlainObject } from './json.js';
import type { AdmissionRequest, AdmissionResponse, AdmissionReview } from './types.js';

/**
 * What a resource class's `validate(old?)` method returns: nothing when the object may be
 * admitted, else what is wrong (one message or several).
 */
export type AdmissionProblems = string | readonly string[] | undefined | void;

/**
 * A resource class with an admission check: `validate(old)` runs on every CREATE (`old`
 * undefined) and UPDATE (`old` the object before it) that reaches the validating webhook,
 * on instances of the class (the object converted to that class's version).
 *
 * @example
 * ```ts
 * class Database implements ValidatesAdmission<Database> {
 *   spec!: DatabaseSpec;
 *   validate(old?: Database) {
 *     if (old && old.spec.engine !== this.spec.engine) return `spec.engine is immutable (was ${old.spec.engine})`;
 *   }
 * }
 * ```
 */
export interface ValidatesAdmission<T> {
  validate(old?: T): AdmissionProblems | Promise<AdmissionProblems>;
}

const render = (v: Violation) => describeViolations([v]);

function review(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

const allowed = (uid: string, extra: Partial<AdmissionResponse> = {}): AdmissionReview => review({ uid, allowed: true, ...extra });

/** A refusal as the API server reports it: `admission webhook "…" denied the request: <message>`. */
function denied(uid: string, message: string, warnings: string[]): AdmissionReview {
  return review({
    uid,
    allowed: false,
    status: { status: 'Failure', code: 422, reason: 'Invalid', message: truncateConditionMessage(message) },
    ...(warnings.length > 0 ? { warnings } : {}),
  });
}

/** Whether the request is one admission looks at: the resource itself, created or updated, not being deleted. */
function admits(request: AdmissionRequest): request is AdmissionRequest & { object: KubernetesObject } {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return false;
  if (request.subResource) return false;
  const object = request.object;
  return isPlainObject(object) && !(object as KubernetesObject).metadata?.deletionTimestamp;
}

/** The value at a path (`*` expands arrays), for finding which deprecated fields an object sets. */
function setAt(value: unknown, path: readonly string[]): boolean {
  if (path.length === 0) return value !== undefined && value !== null;
  const [head, ...rest] = path;
  if (head === '*') return Array.isArray(value) && value.some((item) => setAt(item, rest));
  return isPlainObject(value) && setAt(value[head!], rest);
}

/** The admission of one kind (see the module documentation). */
export class KindAdmission {
  readonly #spec: WebhookSpec;
  readonly #converter: Converter;

  constructor(spec: WebhookSpec, converter: Converter) {
    this.#spec = spec;
    this.#converter = converter;
  }

  /** The version of the request's object, by `request.kind`, else by its apiVersion. */
  #version(request: AdmissionRequest): VersionSpec | undefined {
    const byKind = request.kind?.kind === this.#spec.kind ? this.#spec.versions.find((v) => v.name === request.kind.version) : undefined;
    return byKind ?? this.#converter.version(request.object?.apiVersion);
  }

  /** Answers a validating AdmissionReview. */
  async validate(request: AdmissionRequest): Promise<AdmissionReview> {
    if (!admits(request)) return allowed(request.uid);
    const version = this.#version(request);
    if (!version) return denied(request.uid, `this operator does not serve ${request.kind?.kind} ${request.kind?.group}/${request.kind?.version}`, []);
    const object = request.object;
    const old = request.operation === 'UPDATE' && isPlainObject(request.oldObject) ? request.oldObject : undefined;
    const warnings: string[] = [];
    for (const field of version.deprecatedFields) {
      if (setAt(object, field.path)) warnings.push(`${formatFieldPath(field.path)} is deprecated: ${field.message}`);
    }
    let violations: Violation[];
    let problems: string[];
    try {
      const current = await this.#violations(version, object);
      const before = old ? new Set((await this.#violations(version, old)).map(render)) : new Set<string>();
      violations = current.filter((v) => !before.has(render(v)));
      for (const v of current) if (before.has(render(v))) warnings.push(`${render(v)} (already so before this update)`);
      problems = await this.#methodProblems(version, object, old);
    } catch (err) {
      // A conversion function or a validate() method that throws: refuse rather than admit unchecked.
      return denied(request.uid, `cannot validate ${this.#spec.kind}: ${describeError(err)}`, warnings);
    }
    const messages = [...(violations.length > 0 ? [describeViolations(violations)] : []), ...problems];
    if (messages.length > 0) return denied(request.uid, messages.join('; '), warnings);
    return allowed(request.uid, warnings.length > 0 ? { warnings } : {});
  }

  /** Answers a mutating AdmissionReview: the defaults of the object's version, as a JSON patch. */
  async mutate(request: AdmissionRequest): Promise<AdmissionReview> {
    if (!admits(request)) return allowed(request.uid);
    const version = this.#version(request);
    if (!version || version.defaults.length === 0) return allowed(request.uid);
    let patch;
    try {
      patch = applyDefaults(cloneJSON(request.object), version.defaults);
    } catch (err) {
      return denied(request.uid, `cannot default ${this.#spec.kind}: a default function failed: ${describeError(err)}`, []);
    }
    if (patch.length === 0) return allowed(request.uid);
    return allowed(request.uid, { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
  }

  /** The constraints of the object's class, and of the hub class on the object as the hub (deduplicated). */
  async #violations(version: VersionSpec, object: KubernetesObject): Promise<Violation[]> {
    const found = version.constraints ? await validateResource(version.type, object) : [];
    if (!version.hub && this.#spec.hub.constraints) {
      const seen = new Set(found.map(render));
      for (const v of await validateResource(this.#spec.hub.type, this.#converter.toHub(object))) if (!seen.has(render(v))) found.push(v);
    }
    return found;
  }

  /** What the `validate(old?)` methods of the object's class and of the hub class return. */
  async #methodProblems(version: VersionSpec, object: KubernetesObject, old: KubernetesObject | undefined): Promise<string[]> {
    const problems: string[] = [];
    const run = async (v: VersionSpec, obj: KubernetesObject, previous: KubernetesObject | undefined) => {
      const instance = toInstance<ValidatesAdmission<unknown>>(v.type, cloneJSON(obj));
      const result = await instance.validate(previous === undefined ? undefined : toInstance(v.type, cloneJSON(previous)));
      if (typeof result === 'string') problems.push(result);
      else if (Array.isArray(result)) problems.push(...result.filter((p): p is string => typeof p === 'string'));
    };
    if (version.validateMethod) await run(version, object, old);
    if (!version.hub && this.#spec.hub.validateMethod) {
      await run(this.#spec.hub, this.#converter.toHub(object), old && this.#converter.toHub(old));
    }
    return problems;
  }
}
