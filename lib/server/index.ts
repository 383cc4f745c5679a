/**
 * HTTP(S) serving of an operator: metrics over HTTPS with delegated authentication and
 * authorization (TokenReview + SubjectAccessReview), and the kubelet's probes on their own
 * plain port; the RBAC this needs.
 *
 * @example
 * ```ts
 * const metrics = new MetricsServer({ metrics: () => registry.metrics(), reviews: reviewClientFromKubeConfig(kc) });
 * const probes = new ProbeServer({ readiness: { caches: () => (synced ? undefined : 'not synced') } });
 * await Promise.all([metrics.start(), probes.start()]);
 * ```
 *
 * @module
 */
export { DelegatingAuth, reviewClientFromKubeConfig } from './auth.js';
export type { AuthDecision, AuthRequest, AuthenticatedUser, DelegatingAuthOptions, MetricsAuthOptions, ReviewClient } from './auth.js';
export { CertificateWatcher, readCertificateFiles, selfSignedCertificate } from './certificates.js';
export type { CertificateFiles, CertificateKeyPair, CertificateWatcherOptions, TlsSource } from './certificates.js';
export { ReviewFailedError, ServerConfigError } from './errors.js';
export { HTTP_SERVER_LIMITS } from './listen.js';
export { MetricsServer } from './metrics-server.js';
export type { MetricsServerOptions } from './metrics-server.js';
export { ProbeServer } from './probes.js';
export type { Check, ProbeServerOptions } from './probes.js';
export { METRICS_AUTH_RULES, METRICS_PATH, METRICS_READER_RULES, metricsAuthClusterRole, metricsReaderClusterRole } from './rbac.js';
export { WebhookServer } from './webhook-server.js';
export type { WebhookHandler, WebhookRequestRecord, WebhookServerOptions } from './webhook-server.js';
export { createWebhookCertificates, issueServingCertificate, webhookCertificatesUsable } from './webhook-certificates.js';
export type { WebhookCertificates } from './webhook-certificates.js';
