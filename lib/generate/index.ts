/**
 * Generators for what an operator needs installed (`maestro-operator/generate`): CRDs for
 * its `@Resource` classes (structural schemas from the class-validator constraints) and
 * least-privilege RBAC from its specs (what `@Parent`, `@Owns`, `@Uses` and `@Finalizer`
 * declare). Both come as client-node objects (to create with a client) or as YAML (for
 * `kubectl apply -f`). Nothing here loads the runtime or dependency injection.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * writeFileSync('deploy/crds.yaml', crdYAML([StaticSite]));
 * writeFileSync('deploy/rbac.yaml', rbacYAML([SiteReconciler, SiteCleanup], {
 *   name: 'site-operator', serviceAccount: { name: 'site-operator', namespace: 'operators' }, leaderElection: true,
 * }));
 * ```
 *
 * @module
 */
export { CONDITION_SCHEMA, DEFAULT_WEBHOOK_CLIENT, crdWireForm, crdYAML, generateCRD, resourceSchema, webhookClientConfig } from './crd.js';
export type { CRDOptions, PrinterColumn, WebhookClient } from './crd.js';
export { generateWebhookConfigurations, generateWebhookService, webhookSpecsOf, webhookYAML } from './webhooks.js';
export type { WebhookConfiguration, WebhookConfigurationOptions, WebhookServiceOptions } from './webhooks.js';
export { classSchema, describedProperties } from './schema.js';
export type { JSONValue, OpenAPISchema, ValidationRule } from './schema.js';
export { RUNTIME_VERBS, generateRBAC, policyRules, rbacYAML, requiredPermissions } from './rbac.js';
export type { Permission, RBACObject, RBACOptions, RBACSource } from './rbac.js';
export { toYAML } from './yaml.js';
export { CRDGenerationError, RBACGenerationError, SchemaGenerationError } from './errors.js';
