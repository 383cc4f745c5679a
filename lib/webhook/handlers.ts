/**
 * The webhook handlers of an operator: from review in to review out, by path, with no
 * server (`lib/server`'s `WebhookServer` serves them over HTTPS).
 *
 * @module
 */
import type { WebhookSpec } from '../declare/webhooks.js';
import { CONVERSION_PATH } from '../declare/webhooks.js';
import { KindAdmission } from './admission.js';
import { Converter, reviewConversion } from './conversion.js';
import { WebhookRequestError } from './errors.js';
import { isPlainObject } from './json.js';
import type { AdmissionRequest, AdmissionReview, ConversionReview } from './types.js';

/** What a path does. */
export type WebhookRole = 'validate' | 'mutate' | 'convert';

/** One path the handlers answer. */
export interface WebhookRoute {
  readonly path: string;
  readonly role: WebhookRole;
  /** The kind (`StaticSite.sites.maestro.dev`), or every kind for the conversion path. */
  readonly kinds: readonly string[];
}

const kindId = (spec: Pick<WebhookSpec, 'kind' | 'group'>) => `${spec.kind}.${spec.group}`;

/**
 * Validation, defaulting and conversion for the kinds of `specs` (an operator's
 * `spec.webhooks`), answering reviews as the API server posts them:
 *
 * - `POST /validate-<group>-<kind>`: an AdmissionReview, answered allowed or refused
 *   with the violations (see `KindAdmission`);
 * - `POST /mutate-<group>-<kind>`: an AdmissionReview, answered with a JSON patch of defaults;
 * - `POST /convert`: a ConversionReview (apiextensions.k8s.io/v1) for any of the kinds.
 *
 * @example
 * ```ts
 * const handlers = new WebhookHandlers(buildSpecs().webhooks);
 * const answer = await handlers.handle('/validate-sites-maestro-dev-staticsite', JSON.parse(body));
 * ```
 */
export class WebhookHandlers {
  readonly routes: readonly WebhookRoute[];
  readonly #admission = new Map<string, { role: 'validate' | 'mutate'; admission: KindAdmission }>();
  readonly #converters = new Map<string, Converter>();

  constructor(specs: readonly WebhookSpec[]) {
    const routes: WebhookRoute[] = [];
    for (const spec of specs) {
      const converter = new Converter(spec);
      this.#converters.set(kindId(spec), converter);
      const admission = new KindAdmission(spec, converter);
      if (spec.validating) {
        this.#admission.set(spec.paths.validate, { role: 'validate', admission });
        routes.push({ path: spec.paths.validate, role: 'validate', kinds: [kindId(spec)] });
      }
      if (spec.mutating) {
        this.#admission.set(spec.paths.mutate, { role: 'mutate', admission });
        routes.push({ path: spec.paths.mutate, role: 'mutate', kinds: [kindId(spec)] });
      }
    }
    const converting = specs.filter((s) => s.conversion).map(kindId);
    if (converting.length > 0) routes.push({ path: CONVERSION_PATH, role: 'convert', kinds: converting });
    this.routes = routes;
  }

  /** Whether `path` is one the handlers answer. */
  has(path: string): boolean {
    return path === CONVERSION_PATH ? this.#converters.size > 0 && this.routes.some((r) => r.role === 'convert') : this.#admission.has(path);
  }

  /**
   * Answers the review `body` (parsed JSON) posted to `path`.
   *
   * @throws {@link WebhookRequestError} for an unknown path (404) or a body that is not the review the path expects (400).
   */
  async handle(path: string, body: unknown): Promise<AdmissionReview | ConversionReview> {
    if (path === CONVERSION_PATH && this.has(path)) return this.convert(body);
    const target = this.#admission.get(path);
    if (!target) throw new WebhookRequestError(`no webhook at ${path}`, 404);
    const request = admissionRequest(body);
    return target.role === 'validate' ? target.admission.validate(request) : target.admission.mutate(request);
  }

  /** Answers a ConversionReview. @throws {@link WebhookRequestError} for a malformed review. */
  convert(body: unknown): ConversionReview {
    if (!isPlainObject(body) || body.kind !== 'ConversionReview' || body.apiVersion !== 'apiextensions.k8s.io/v1') {
      throw new WebhookRequestError('expected an apiextensions.k8s.io/v1 ConversionReview');
    }
    const request = body.request;
    if (!isPlainObject(request) || typeof request.uid !== 'string' || typeof request.desiredAPIVersion !== 'string' || !Array.isArray(request.objects)) {
      throw new WebhookRequestError('the ConversionReview has no request with uid, desiredAPIVersion and objects');
    }
    return reviewConversion(this.#converters, body as unknown as ConversionReview);
  }
}

function admissionRequest(body: unknown): AdmissionRequest {
  if (!isPlainObject(body) || body.kind !== 'AdmissionReview' || body.apiVersion !== 'admission.k8s.io/v1') {
    throw new WebhookRequestError('expected an admission.k8s.io/v1 AdmissionReview (admissionReviewVersions: [v1])');
  }
  const request = body.request;
  if (!isPlainObject(request) || typeof request.uid !== 'string' || typeof request.operation !== 'string') {
    throw new WebhookRequestError('the AdmissionReview has no request with uid and operation');
  }
  return request as unknown as AdmissionRequest;
}
