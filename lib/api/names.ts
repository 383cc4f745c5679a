/**
 * The naming rules of the Kubernetes API that Maestro checks before the API server does
 * (apimachinery's `validation` package), in one place: condition types and reasons,
 * DNS subdomains and labels, finalizer names. Everything else uses these.
 *
 * @module
 */

const DNS_LABEL_SOURCE = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_SUBDOMAIN_SOURCE = `${DNS_LABEL_SOURCE}(\\.${DNS_LABEL_SOURCE})*`;
const QUALIFIED_NAME_SOURCE = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const REASON_SOURCE = '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?';

/** The pattern of a condition type, for schemas (a string: `RegExp.source` would escape the '/'). */
export const CONDITION_TYPE_PATTERN = `^(${DNS_SUBDOMAIN_SOURCE}/)?(${QUALIFIED_NAME_SOURCE})$`;
/** The pattern of a condition reason, for schemas. */
export const CONDITION_REASON_PATTERN = `^${REASON_SOURCE}$`;

/** A DNS-1123 label: lower-case letters, digits and '-', at most 63 characters (namespaces). */
export const DNS_LABEL = new RegExp(`^${DNS_LABEL_SOURCE}$`);
/** A DNS-1123 subdomain: dot-separated labels, at most 253 characters (most object names, API groups). */
export const DNS_SUBDOMAIN = new RegExp(`^${DNS_SUBDOMAIN_SOURCE}$`);
/** The name part of a qualified name (`Ready`, the `Synced` of `example.com/Synced`), at most 63 characters. */
export const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_SOURCE}$`);
/** A condition's (and an Event's) CamelCase reason, as `metav1.Condition` requires it. */
export const CONDITION_REASON = new RegExp(CONDITION_REASON_PATTERN);
/** A condition type: a qualified name with an optional DNS-subdomain prefix (the CRD schema's pattern). */
export const CONDITION_TYPE = new RegExp(CONDITION_TYPE_PATTERN);
/** A finalizer name: a domain-qualified name such as `example.com/cleanup`. */
const FINALIZER = new RegExp(`^${DNS_LABEL_SOURCE}(\\.${DNS_LABEL_SOURCE})+/${QUALIFIED_NAME_SOURCE}$`);

/** Whether `value` is a DNS-1123 subdomain of at most `max` characters (default 253). */
export function isDnsSubdomain(value: unknown, max = 253): value is string {
  return typeof value === 'string' && value.length <= max && DNS_SUBDOMAIN.test(value);
}

/** Whether `value` is a DNS-1123 label (at most 63 characters). */
export function isDnsLabel(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 63 && DNS_LABEL.test(value);
}

/** Whether `value` is a valid condition reason: CamelCase, 1 to 1024 characters. */
export function isConditionReason(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 1024 && CONDITION_REASON.test(value);
}

/** Whether `value` is a valid condition type (`Ready`, `example.com/Synced`), within the API's lengths. */
export function isConditionType(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 316) return false;
  const slash = value.indexOf('/');
  const prefix = slash < 0 ? undefined : value.slice(0, slash);
  const name = slash < 0 ? value : value.slice(slash + 1);
  return name.length <= 63 && (prefix === undefined || prefix.length <= 253) && CONDITION_TYPE.test(value);
}

/** Whether `value` is a domain-qualified finalizer name such as `example.com/cleanup`. */
export function isFinalizerName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 316 && FINALIZER.test(value);
}

/**
 * The reason an error gives for itself (`TerminalError.reason`, an `ApiError`'s API
 * reason), when it is a valid condition reason; otherwise `undefined`. Both the failure
 * condition and the failure Event take their reason from here.
 */
export function reasonOf(err: unknown): string | undefined {
  const reason = (err as { reason?: unknown } | null | undefined)?.reason;
  return isConditionReason(reason) ? reason : undefined;
}
