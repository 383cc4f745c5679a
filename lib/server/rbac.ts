/**
 * The RBAC that secure metrics serving needs, for the RBAC generator to include: the
 * operator may create TokenReviews and SubjectAccessReviews, and scrapers need `get` on the
 * non-resource URL `/metrics` (kubebuilder's `metrics-auth-role` and `metrics-reader`).
 *
 * Data only, with no run-time imports: the generators (which load no runtime) read it too.
 */
import type { V1ClusterRole, V1PolicyRule } from '@kubernetes/client-node';

/** The path metrics are served at. */
export const METRICS_PATH = '/metrics';

/** Rules the operator's ServiceAccount needs for authenticated metrics (cluster-scoped kinds: a ClusterRole). */
export const METRICS_AUTH_RULES: readonly Readonly<V1PolicyRule>[] = Object.freeze([
  Object.freeze({ apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] }),
  Object.freeze({ apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] }),
]);

/** The rule a scraper needs: `get` on `/metrics`. */
export const METRICS_READER_RULES: readonly Readonly<V1PolicyRule>[] = Object.freeze([
  Object.freeze({ nonResourceURLs: [METRICS_PATH], verbs: ['get'] }),
]);

/**
 * The ClusterRole to bind Prometheus (or anyone allowed to scrape) to: `<operator>-metrics-reader`.
 *
 * @example
 * ```ts
 * metricsReaderClusterRole('static-site-operator').metadata.name; // 'static-site-operator-metrics-reader'
 * ```
 */
export function metricsReaderClusterRole(operatorName: string, labels: Record<string, string> = {}): V1ClusterRole & { metadata: { name: string } } {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: `${operatorName}-metrics-reader`, ...(Object.keys(labels).length ? { labels } : {}) },
    rules: METRICS_READER_RULES.map((rule) => ({ ...rule, nonResourceURLs: [...rule.nonResourceURLs!], verbs: [...rule.verbs] })),
  };
}

/**
 * The ClusterRole granting the operator {@link METRICS_AUTH_RULES}: `<operator>-metrics-auth`
 * (bind it to the operator's ServiceAccount with a ClusterRoleBinding).
 */
export function metricsAuthClusterRole(operatorName: string, labels: Record<string, string> = {}): V1ClusterRole & { metadata: { name: string } } {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: `${operatorName}-metrics-auth`, ...(Object.keys(labels).length ? { labels } : {}) },
    rules: METRICS_AUTH_RULES.map((rule) => ({ apiGroups: [...rule.apiGroups!], resources: [...rule.resources!], verbs: [...rule.verbs] })),
  };
}
