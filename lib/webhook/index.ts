/**
 * `maestro-operator/webhook`: admission and conversion from the decorated classes, as pure
 * handlers (a review in, a review out), testable without a server or a cluster. The
 * operator serves them over HTTPS (`createOperator({ webhooks })`, `WebhookServer` in
 * `maestro-operator/runtime`).
 *
 * @example
 * ```ts
 * import { WebhookHandlers } from 'maestro-operator/webhook';
 * const handlers = new WebhookHandlers(buildSpecs({ components }).webhooks);
 * const review = await handlers.handle('/validate-sites-maestro-dev-staticsite', admissionReview);
 * review.response.allowed; // false: 'spec.image (isPinnedImage): image must pin a tag other than latest, or a digest'
 * ```
 *
 * @module
 */
export { KindAdmission } from './admission.js';
export type { AdmissionProblems, ValidatesAdmission } from './admission.js';
export { CONVERSION_DATA_ANNOTATION, Converter, reviewConversion } from './conversion.js';
export { applyDefaults } from './defaults.js';
export { ConversionError, WebhookRequestError } from './errors.js';
export { WebhookHandlers } from './handlers.js';
export type { WebhookRole, WebhookRoute } from './handlers.js';
export type {
  AdmissionRequest, AdmissionResponse, AdmissionReview, ConversionReview, GroupVersionKind,
} from './types.js';
export { CONVERSION_PATH } from '../declare/webhooks.js';
export type {
  Conversion, Converted, ConvertsOptions, DefaultSpec, DefaultValue, DeprecatedFieldSpec, FieldPath, VersionSpec, WebhookSpec,
} from '../declare/webhooks.js';
