/**
 * Declaration: the {@link Registry} the decorators write into, and {@link buildSpecs},
 * which turns it into the immutable specs the runtime, the generators and the CLI use.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ResourceClass, ResourceDeclaration, ResourceInfo } from '../resources/index.js';
import { Registry } from './registry.js';

export { Registry, lineage } from './registry.js';
export type {
  ComponentClass, ComponentDeclaration, OwnedDeclaration, OwnsOptions, UsedDeclaration, UsesOptions,
} from './registry.js';
export { OperatorConfigurationError, buildSpecs, collectSpecs } from './specs.js';
export type {
  BuildSpecsOptions, CleanerSpec, ComponentRole, ComponentSpec, KindSpec, OperatorSpec, ParentSpec, StatusHandlerSpec,
  StepSpec, ValidationSpec, WatchSpec,
} from './specs.js';
export type { JSONValue, OpenAPISchema, ValidationRule } from './openapi.js';
export { APIDeclarations, CONVERSION_PATH, collectWebhookSpecs, compareVersionPriority, formatFieldPath } from './webhooks.js';
export type {
  AnyConversion, Conversion, ConversionDeclaration, Converted, ConvertsOptions, DefaultFunction, DefaultSpec, DefaultValue,
  DeprecatedFieldSpec, FieldPath, ResourceData, VersionSpec, WebhookSpec,
} from './webhooks.js';

/**
 * The resource of a class or object, as `registry` (default: `Registry.default`) knows it:
 * by class first, then by the object's `apiVersion` and `kind`.
 *
 * @throws `UnknownResourceError` when neither identifies a known resource.
 * @example
 * ```ts
 * resourceOf(V1Deployment).plural; // 'deployments'
 * resourceOf({ apiVersion: 'v1', kind: 'ConfigMap' }).namespaced; // true
 * ```
 */
export function resourceOf(typeOrObject: ResourceClass | KubernetesObject, registry: Registry = Registry.default): ResourceInfo {
  return registry.resources.of(typeOrObject);
}

/** Like {@link resourceOf}, but `undefined` instead of throwing. */
export function tryResourceOf(typeOrObject: ResourceClass | KubernetesObject, registry: Registry = Registry.default): ResourceInfo | undefined {
  return registry.resources.tryOf(typeOrObject);
}

/**
 * Declares the resource a class represents in `registry` (what `@Resource` does), for
 * classes that are not decorated. Idempotent for identical declarations.
 *
 * @throws `InvalidResourceError` for a malformed declaration or one that conflicts with an earlier one.
 * @example
 * ```ts
 * class StaticSite { apiVersion?: string; kind?: string; metadata?: V1ObjectMeta; spec!: StaticSiteSpec }
 * defineResource(StaticSite, { group: 'example.com', version: 'v1', kind: 'StaticSite' });
 * ```
 */
export function defineResource(type: ResourceClass, declaration: ResourceDeclaration, registry: Registry = Registry.default): ResourceInfo {
  return registry.resources.define(type, declaration);
}

/** The custom resources declared in `registry` so far, with their classes. */
export function customResources(registry: Registry = Registry.default): Array<{ type: ResourceClass; resource: ResourceInfo }> {
  return registry.resources.declared().filter(({ resource }) => !resource.builtIn);
}
