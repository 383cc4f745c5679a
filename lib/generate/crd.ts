/**
 * CustomResourceDefinitions from `@Resource` classes: a structural schema derived from
 * the class (see `./schema.ts` for the mapping), the status subresource, printer columns
 * for the Ready condition, and the names from `@Resource`.
 *
 * @module
 */
import type { V1CustomResourceColumnDefinition, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { CONDITION_REASON_PATTERN, CONDITION_TYPE_PATTERN } from '../api/names.js';
import { modelFromWire, modelToWire } from '../client/wire.js';
import { Registry } from '../declare/registry.js';
import { CONVERSION_PATH, collectWebhookSpecs, type WebhookSpec } from '../declare/webhooks.js';
import type { ResourceClass, ResourceInfo } from '../resources/index.js';
import { CRDGenerationError } from './errors.js';
import { describedProperties, propertySchemaOf, type OpenAPISchema } from './schema.js';
import { toYAML } from './yaml.js';

/** An extra column of `kubectl get` (`additionalPrinterColumns`). */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** A JSONPath into the object, e.g. `.spec.replicas`. */
  jsonPath: string;
  description?: string;
  /** `int32`, `int64`, `float`, `double`, `byte`, `date`, `date-time` or `password`. */
  format?: string;
  /** 0 (default) shows in the standard view; higher only with `-o wide`. */
  priority?: number;
}

/** Options of {@link generateCRD}. */
export interface CRDOptions {
  /** Columns shown by `kubectl get` between `Reason` and `Age`. */
  printerColumns?: PrinterColumn[];
  /** Groups the kind belongs to, e.g. `['all']` for `kubectl get all`. */
  categories?: string[];
  /** The singular name (default: the lower-cased kind). */
  singular?: string;
  /** The description of the root schema (shown by `kubectl explain`). */
  description?: string;
  /** Where the class's `@Resource` and `@Schema` declarations are (default: `Registry.default`). */
  registry?: Registry;
  /**
   * Where the API server calls the conversion webhook of a kind with several versions
   * (default: the Service `webhook-service` in namespace `system` on port 443, kubebuilder's
   * names, to be set for your deployment). The operator injects the CA bundle at start
   * (`createOperator({ webhooks: {} })`), or cert-manager does.
   */
  webhook?: WebhookClient;
}

/**
 * How the API server reaches the operator's webhooks: a Service in the cluster (the
 * operator's `-webhook` Service), or a URL (a process outside the cluster, e.g. tests).
 */
export type WebhookClient =
  | { service: { name: string; namespace: string; port?: number }; caBundle?: string }
  | { url: string; caBundle?: string };

/** The default {@link WebhookClient}: kubebuilder's names. */
export const DEFAULT_WEBHOOK_CLIENT: WebhookClient = Object.freeze({ service: Object.freeze({ name: 'webhook-service', namespace: 'system', port: 443 }) });

/** A webhook `clientConfig` (wire form) for `path` on `client`. */
export function webhookClientConfig(client: WebhookClient, path: string): Record<string, unknown> {
  const caBundle = client.caBundle === undefined ? {} : { caBundle: Buffer.from(client.caBundle).toString('base64') };
  if ('url' in client) return { url: `${client.url.replace(/\/+$/, '')}${path}`, ...caBundle };
  return { service: { name: client.service.name, namespace: client.service.namespace, path, port: client.service.port ?? 443 }, ...caBundle };
}

/** The standard schema of `metav1.Condition`, as the runtime writes conditions. */
export const CONDITION_SCHEMA: Readonly<OpenAPISchema> = Object.freeze<OpenAPISchema>({
  type: 'object',
  description: 'One aspect of the current state of the object.',
  properties: {
    type: {
      type: 'string',
      description: 'Type of the condition, in CamelCase or in foo.example.com/CamelCase.',
      maxLength: 316,
      pattern: CONDITION_TYPE_PATTERN,
    },
    status: { type: 'string', description: 'Status of the condition: True, False or Unknown.', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0, description: 'The metadata.generation the condition was set from.' },
    lastTransitionTime: { type: 'string', format: 'date-time', description: 'When the condition last changed from one status to another.' },
    reason: {
      type: 'string',
      description: 'A CamelCase, machine-readable reason for the last transition.',
      minLength: 1,
      maxLength: 1024,
      pattern: CONDITION_REASON_PATTERN,
    },
    message: { type: 'string', description: 'Human-readable details about the last transition.', maxLength: 32768 },
  },
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
});

/** The `status.conditions` and `status.observedGeneration` the runtime writes. */
function runtimeStatusProperties(): Record<string, OpenAPISchema> {
  return {
    conditions: {
      type: 'array',
      description: 'The latest observations of the object\'s state.',
      items: structuredClone(CONDITION_SCHEMA),
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
    observedGeneration: { type: 'integer', format: 'int64', description: 'The metadata.generation the status was computed from.' },
  };
}

const STANDARD_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/**
 * The status schema: the class's status class when it has decorated properties (with the
 * runtime's `conditions` and `observedGeneration` added, so its writes are not pruned),
 * otherwise those two plus `x-kubernetes-preserve-unknown-fields` for anything else.
 */
function statusSchema(type: ResourceClass, registry: Registry): OpenAPISchema {
  const declared = describedProperties(type, registry).some((p) => p.name === 'status') ? propertySchemaOf(type, 'status', registry) : undefined;
  if (declared?.type === 'object' && declared.properties) {
    return { ...declared, properties: { ...declared.properties, ...runtimeStatusProperties() } };
  }
  return { type: 'object', properties: runtimeStatusProperties(), 'x-kubernetes-preserve-unknown-fields': true };
}

/** The versions of `resource`'s kind (every `@Resource` class of it in the registry), or `undefined` for one version. */
function webhookSpecOf(type: ResourceClass, resource: ResourceInfo, registry: Registry): WebhookSpec | undefined {
  const family = registry.resources.declared().filter((d) => d.resource.group === resource.group && d.resource.kind === resource.kind);
  if (family.length < 2) return undefined;
  const { webhooks, problems } = collectWebhookSpecs(registry, [resource]);
  if (problems.length > 0) throw new CRDGenerationError(`${type.name}: the versions of ${resource.kind}.${resource.group} do not fit together: ${problems.join('; ')}`);
  return webhooks[0];
}

function customResourceOf(type: ResourceClass, registry: Registry): ResourceInfo {
  let resource: ResourceInfo;
  try {
    resource = registry.resources.of(type);
  } catch (err) {
    throw new CRDGenerationError(`${type.name}: not a custom resource: decorate it with @Resource({ group, version, kind })`, { cause: err });
  }
  if (resource.builtIn) {
    throw new CRDGenerationError(`${type.name}: ${resource.kind} (${resource.apiVersion}) is a built-in kind; CRDs are generated only for @Resource classes`);
  }
  return resource;
}

/**
 * The root `openAPIV3Schema` of a `@Resource` class, with wire names: `apiVersion`,
 * `kind`, `metadata` as Kubernetes expects them, every described property of the class
 * (`spec` first of all; a free-form object when the class does not describe it), and
 * `status` (see {@link generateCRD}); a class-level `@Schema` fragment is merged in.
 * Properties are required unless `@IsOptional()`: note that class-validator itself does
 * not require a property that has only `@ValidateNested()` (add `@IsDefined()` for the
 * operator's validation to agree), while the CRD follows the TypeScript `spec!`.
 *
 * @throws {@link CRDGenerationError} for a built-in kind or a class without `@Resource`.
 * @throws {@link SchemaGenerationError} when a property cannot be mapped.
 * @example
 * ```ts
 * resourceSchema(StaticSite).properties!.spec!.properties!.replicas; // { type: 'integer', minimum: 1, maximum: 10 }
 * ```
 */
export function resourceSchema(type: ResourceClass, description?: string, registry: Registry = Registry.default): OpenAPISchema {
  const resource = customResourceOf(type, registry);
  const properties: Record<string, OpenAPISchema> = {
    apiVersion: { type: 'string', description: 'The versioned schema of this representation of an object.' },
    kind: { type: 'string', description: 'The REST resource this object represents.' },
    metadata: { type: 'object' },
  };
  const required: string[] = [];
  for (const { name, optional } of describedProperties(type, registry)) {
    if (STANDARD_FIELDS.has(name)) continue;
    properties[name] = propertySchemaOf(type, name, registry);
    if (!optional) required.push(name);
  }
  properties.spec ??= { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  properties.status = statusSchema(type, registry);
  return {
    type: 'object',
    description: description ?? `${resource.kind} is the Schema for the ${resource.plural} API.`,
    properties,
    ...(required.length > 0 ? { required } : {}),
    // e.g. CEL rules across spec fields: @Schema({ 'x-kubernetes-validations': [...] }) on the class.
    ...registry.classSchema(type),
  };
}

const READY = '.status.conditions[?(@.type=="Ready")]';

/**
 * The CRD of a `@Resource` class (every version of its kind: see below):
 *
 * - `openAPIV3Schema` from {@link resourceSchema}: derived from the class's decorated
 *   properties, structural, so unknown fields are pruned;
 * - `status`: the class's status class if it has decorated properties, else an object
 *   with `conditions` (metav1.Condition, a list map keyed by `type`), `observedGeneration`
 *   and `x-kubernetes-preserve-unknown-fields` for anything else;
 * - the status subresource, and printer columns Ready, Reason (of the Ready condition),
 *   `options.printerColumns`, and Age;
 * - names from `@Resource` (plural, short names, scope), singular, `<Kind>List`;
 * - when several `@Resource` classes declare versions of the kind (`@Converts` on all but
 *   the hub): every version with its own schema, the hub stored, deprecated versions
 *   marked, and `conversion: Webhook` calling `options.webhook` at `/convert`.
 *
 * The result is a client-node model, as `loadYaml` or a read from the API server would
 * give it: model names (`x_kubernetes_preserve_unknown_fields`, `_enum`) where the model
 * is typed, wire names inside untyped fields such as `items`. Send it with client-node
 * (e.g. `ApiextensionsV1Api.createCustomResourceDefinition`), or write it with
 * {@link crdYAML}; both produce the wire form.
 *
 * @throws {@link CRDGenerationError} for a built-in kind or a class without `@Resource`.
 * @throws {@link SchemaGenerationError} when a property cannot be mapped.
 * @example
 * ```ts
 * await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: generateCRD(StaticSite) });
 * ```
 */
export function generateCRD(type: ResourceClass, options: CRDOptions = {}): V1CustomResourceDefinition {
  const registry = options.registry ?? Registry.default;
  const resource = customResourceOf(type, registry);
  const printerColumns: PrinterColumn[] = [
    { name: 'Ready', type: 'string', jsonPath: `${READY}.status`, description: 'Status of the Ready condition' },
    { name: 'Reason', type: 'string', jsonPath: `${READY}.reason`, description: 'Reason of the Ready condition' },
    ...(options.printerColumns ?? []),
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ];
  const api = webhookSpecOf(type, resource, registry);
  const version = (name: string, versionType: ResourceClass, storage: boolean, served: boolean, deprecationWarning?: string) => ({
    name,
    served,
    storage,
    ...(deprecationWarning === undefined ? {} : { deprecated: true, deprecationWarning }),
    schema: { openAPIV3Schema: resourceSchema(versionType, options.description, registry) },
    subresources: { status: {} },
    additionalPrinterColumns: printerColumns satisfies V1CustomResourceColumnDefinition[],
  });
  const versions = api && api.versions.length > 1
    ? api.versions.map((v) => version(v.name, v.type, v.hub, v.served, v.deprecationWarning))
    : [version(resource.version, type, true, true)];
  const conversion = api && api.versions.length > 1
    ? {
      conversion: {
        strategy: 'Webhook',
        webhook: { conversionReviewVersions: ['v1'], clientConfig: webhookClientConfig(options.webhook ?? DEFAULT_WEBHOOK_CLIENT, CONVERSION_PATH) },
      },
    }
    : {};
  const wire = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${resource.plural}.${resource.group}` },
    spec: {
      group: resource.group,
      scope: resource.namespaced ? 'Namespaced' : 'Cluster',
      names: {
        kind: resource.kind,
        listKind: `${resource.kind}List`,
        plural: resource.plural,
        singular: options.singular ?? resource.kind.toLowerCase(),
        ...(resource.shortNames.length > 0 ? { shortNames: [...resource.shortNames] } : {}),
        ...(options.categories?.length ? { categories: [...options.categories] } : {}),
      },
      versions,
      ...conversion,
    },
  };
  // From the wire form to client-node's model, exactly as client-node reads a CRD.
  return modelFromWire<V1CustomResourceDefinition>(wire, 'V1CustomResourceDefinition');
}

/** {@link generateCRD}'s result in the wire form (what the API server receives), e.g. for JSON output. */
export function crdWireForm(crd: V1CustomResourceDefinition): Record<string, unknown> {
  return modelToWire(crd, 'V1CustomResourceDefinition');
}

/**
 * Multi-document YAML of CRDs (for `kubectl apply -f`), with wire names. Pass classes, or
 * CRDs from {@link generateCRD} when they need options.
 *
 * @throws {@link CRDGenerationError} when two entries define the same CRD differently
 *   (two versions of one kind give the same CRD, written once).
 * @example
 * ```ts
 * writeFileSync('config/crds.yaml', crdYAML([StaticSite, generateCRD(Gallery, { categories: ['all'] })]));
 * ```
 */
export function crdYAML(types: ReadonlyArray<ResourceClass | V1CustomResourceDefinition>): string {
  const crds = types.map((t) => (typeof t === 'function' ? generateCRD(t) : t));
  const seen = new Map<string, string>();
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    const wire = JSON.stringify(crdWireForm(crd));
    const before = seen.get(name);
    if (before !== undefined && before !== wire) throw new CRDGenerationError(`CRD ${name} is defined twice, differently: pass one class per kind (any version: the CRD has them all)`);
    seen.set(name, wire);
  }
  // Two versions of one kind give the same CRD: once.
  return toYAML(crds.filter((crd, i) => crds.findIndex((c) => c.metadata?.name === crd.metadata?.name) === i));
}
