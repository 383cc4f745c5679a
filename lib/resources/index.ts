/**
 * Resource tables: what maps resource classes (client-node models such as `V1Deployment`,
 * and custom-resource classes declared with `@Resource`) to their group, version, kind,
 * plural and scope. The built-in kinds form one constant table; each `Registry` has a
 * table of its own declarations on top of it. Everything that needs a REST path, a
 * watch, RBAC rules or a CRD resolves it through a table.
 *
 * @module
 */
import {
  CoreV1Event, EventsV1Event, V1ClusterRole, V1ClusterRoleBinding, V1ConfigMap, V1CronJob,
  V1CustomResourceDefinition, V1DaemonSet, V1Deployment, V1EndpointSlice, V1Endpoints, V1Ingress,
  V1IngressClass, V1Job, V1Lease, V1LimitRange, V1MutatingWebhookConfiguration, V1Namespace,
  V1NetworkPolicy, V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod, V1PodDisruptionBudget,
  V1PriorityClass, V1ReplicaSet, V1ResourceQuota, V1Role, V1RoleBinding, V1Secret, V1Service,
  V1ServiceAccount, V1StatefulSet, V1StorageClass, V1ValidatingWebhookConfiguration,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { isDnsSubdomain } from '../api/names.js';
import { MaestroError } from '../errors/index.js';

/**
 * A class whose instances are Kubernetes objects of one kind (its constructor may take
 * any parameters: Maestro never calls it to get objects from the API).
 */
export type ResourceClass<T extends KubernetesObject = KubernetesObject> = abstract new (...args: never[]) => T;

/** What Kubernetes needs to know to address a kind: group/version/kind, plural and scope. */
export interface ResourceInfo {
  /** API group; `''` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Lower-case plural used in REST paths, e.g. `deployments`. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** `group/version`, or `version` for the core group. */
  readonly apiVersion: string;
  /** Short names (`kubectl get <short>`), for CRDs. */
  readonly shortNames: readonly string[];
  /**
   * Whether the kind is part of Kubernetes itself (core, `*.k8s.io`, apps, batch,
   * autoscaling, policy), not a custom resource: it has no CRD, client-node has a model
   * for it, and its `status.observedGeneration` belongs to its own controller.
   */
  readonly builtIn: boolean;
}

/** The fields of {@link ResourceInfo} a declaration gives; the rest is derived. */
export interface ResourceDeclaration {
  group: string;
  version: string;
  kind: string;
  /** Defaults to the lower-cased kind plus `s` (or `es` after s/x/ch/sh, `ies` after a consonant + y). */
  plural?: string;
  /** Defaults to `true`. */
  namespaced?: boolean;
  shortNames?: string[];
}

/** Thrown when a class or object cannot be mapped to a Kubernetes resource. */
export class UnknownResourceError extends MaestroError {
  readonly code = 'UnknownResource';
}

/** Thrown when a resource declaration is malformed or conflicts with an earlier one. */
export class InvalidResourceError extends MaestroError {
  readonly code = 'InvalidResource';
}

const LEGACY_BUILT_IN_GROUPS: ReadonlySet<string> = new Set(['apps', 'batch', 'autoscaling', 'policy', 'extensions']);

/**
 * Whether an API group belongs to Kubernetes itself: the core group `''`, `*.k8s.io`,
 * and the groups from before that convention (apps, batch, autoscaling, policy,
 * extensions). The one place that decides "built-in kind".
 */
export function isBuiltInGroup(group: string): boolean {
  return group === '' || group.endsWith('.k8s.io') || LEGACY_BUILT_IN_GROUPS.has(group);
}

const gvkKey = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;

/** The default plural of a kind, following the rules CRD authors use. */
export function defaultPlural(kind: string): string {
  const lower = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

function info(declaration: ResourceDeclaration): ResourceInfo {
  const { group, version, kind } = declaration;
  const name = `${kind || '?'}.${group || 'core'}`;
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind ?? '')) throw new InvalidResourceError(`resource ${name}: kind must be CamelCase, got '${kind}'`);
  if (!/^v[0-9]+((alpha|beta)[0-9]+)?$/.test(version ?? '')) throw new InvalidResourceError(`resource ${name}: version must look like v1, v1beta1 or v2alpha1, got '${version}'`);
  if (group !== '' && !isDnsSubdomain(group)) {
    throw new InvalidResourceError(`resource ${name}: group must be a DNS subdomain such as example.com, got '${String(group)}'`);
  }
  const plural = declaration.plural ?? defaultPlural(kind);
  if (!/^[a-z][a-z0-9]*$/.test(plural)) throw new InvalidResourceError(`resource ${name}: plural must be lower-case letters and digits, got '${plural}'`);
  return Object.freeze({
    group,
    version,
    kind,
    plural,
    namespaced: declaration.namespaced ?? true,
    apiVersion: group ? `${group}/${version}` : version,
    shortNames: Object.freeze([...(declaration.shortNames ?? [])]),
    builtIn: isBuiltInGroup(group),
  });
}

function sameResource(a: ResourceInfo, b: ResourceInfo): boolean {
  return a.apiVersion === b.apiVersion && a.kind === b.kind && a.plural === b.plural && a.namespaced === b.namespaced
    && a.shortNames.join() === b.shortNames.join();
}

/** `Kind (group/version)` (e.g. `Deployment (apps/v1)`), for messages. */
export function describe(resource: Pick<ResourceInfo, 'kind' | 'apiVersion'>): string {
  return `${resource.kind} (${resource.apiVersion})`;
}

/** Resolves classes and objects to their resource (what the runtime, the client and the generators need). */
export interface ResourceLookup {
  /**
   * The resource of a class or object: looked up by class first, then by the object's
   * `apiVersion` and `kind`.
   *
   * @throws {@link UnknownResourceError} when neither identifies a known resource.
   */
  of(typeOrObject: ResourceClass | KubernetesObject): ResourceInfo;
  /** Like {@link ResourceLookup.of}, but `undefined` instead of throwing. */
  tryOf(typeOrObject: ResourceClass | KubernetesObject): ResourceInfo | undefined;
}

/**
 * A table of resource declarations, layered over a base table (the built-in kinds): a
 * declaration here shadows nothing there, and lookups fall back to it.
 *
 * @example
 * ```ts
 * const table = new ResourceTable(builtInResources);
 * table.define(StaticSite, { group: 'example.com', version: 'v1', kind: 'StaticSite' });
 * table.of(V1Deployment).plural; // 'deployments'
 * ```
 */
export class ResourceTable implements ResourceLookup {
  readonly #byClass = new Map<ResourceClass, ResourceInfo>();
  readonly #byGroupVersionKind = new Map<string, ResourceInfo>();
  /** Built-in model classes by name: a second copy of client-node (a duplicate install) still resolves. */
  readonly #byModelName = new Map<string, ResourceInfo>();
  #sealed = false;

  constructor(private readonly base?: ResourceTable) {}

  /**
   * Declares the resource a class represents (what `@Resource` does). Idempotent for
   * identical declarations; a different declaration for the same class or the same
   * group/version/kind is an error.
   *
   * @throws {@link InvalidResourceError} for a malformed or conflicting declaration.
   */
  define(type: ResourceClass, declaration: ResourceDeclaration): ResourceInfo {
    if (this.#sealed) throw new InvalidResourceError(`cannot declare ${type.name}: the table of built-in kinds is fixed; declare it in a Registry`);
    const resource = info(declaration);
    const key = gvkKey(resource.apiVersion, resource.kind);
    const existing = this.#byClass.get(type) ?? (this.base ? this.base.#byClass.get(type) : undefined);
    if (existing && !sameResource(existing, resource)) {
      throw new InvalidResourceError(`${type.name} is already declared as ${describe(existing)}; cannot redeclare it as ${describe(resource)}`);
    }
    const owner = this.#byGroupVersionKind.get(key) ?? (this.base ? this.base.#byGroupVersionKind.get(key) : undefined);
    if (owner && !sameResource(owner, resource)) {
      throw new InvalidResourceError(`${describe(resource)} conflicts with the earlier declaration ${describe(owner)}`);
    }
    // A redeclaration of a base kind (e.g. a built-in) changes nothing here.
    if (existing && !this.#byClass.has(type)) return existing;
    this.#byClass.set(type, existing ?? resource);
    if (!owner) this.#byGroupVersionKind.set(key, resource);
    return existing ?? owner ?? resource;
  }

  of(typeOrObject: ResourceClass | KubernetesObject): ResourceInfo {
    const found = this.tryOf(typeOrObject);
    if (found) return found;
    if (typeof typeOrObject === 'function') {
      throw new UnknownResourceError(
        `${typeOrObject.name || 'this class'} is not a known Kubernetes resource: decorate it with @Resource({ group, version, kind })`,
      );
    }
    const { apiVersion, kind } = typeOrObject ?? {};
    throw new UnknownResourceError(
      apiVersion && kind
        ? `${kind} (${apiVersion}) is not a known Kubernetes resource: declare its class with @Resource({ group, version, kind })`
        : `cannot tell the resource of an object without apiVersion and kind (got apiVersion=${String(apiVersion)}, kind=${String(kind)})`,
    );
  }

  tryOf(typeOrObject: ResourceClass | KubernetesObject): ResourceInfo | undefined {
    if (typeof typeOrObject === 'function') {
      return this.#byClass.get(typeOrObject) ?? this.#modelByName(typeOrObject) ?? this.base?.tryOf(typeOrObject);
    }
    if (typeOrObject === null || typeof typeOrObject !== 'object') return undefined;
    const { apiVersion, kind } = typeOrObject;
    if (apiVersion && kind) {
      const key = gvkKey(apiVersion, kind);
      const found = this.#byGroupVersionKind.get(key) ?? (this.base ? this.base.#byGroupVersionKind.get(key) : undefined);
      if (found) return found;
    }
    const type = typeOrObject.constructor as ResourceClass;
    return this.#byClass.get(type) ?? this.base?.tryOf(type);
  }

  /** The classes declared in this table (not its base), with their resources, in declaration order. */
  declared(): Array<{ type: ResourceClass; resource: ResourceInfo }> {
    return [...this.#byClass.entries()].map(([type, resource]) => ({ type: type, resource }));
  }

  /** Every resource this table and its base know. */
  all(): ResourceInfo[] {
    return [...new Set([...(this.base?.all() ?? []), ...this.#byGroupVersionKind.values()])];
  }

  #modelByName(type: ResourceClass): ResourceInfo | undefined {
    if (this.#byModelName.size === 0) return undefined;
    const isModel = typeof (type as { getAttributeTypeMap?: unknown }).getAttributeTypeMap === 'function';
    return isModel ? this.#byModelName.get(type.name) : undefined;
  }

  /** Declares a client-node model class (also found by class name, for duplicate installs of client-node). */
  #defineModel(type: ResourceClass, declaration: ResourceDeclaration): void {
    this.#byModelName.set(type.name, this.define(type, declaration));
  }

  /** @internal Fills the built-in table once, then fixes it. */
  static builtIns(models: ReadonlyArray<[ResourceClass, ResourceDeclaration]>): ResourceTable {
    const table = new ResourceTable();
    for (const [type, declaration] of models) table.#defineModel(type, declaration);
    table.#sealed = true;
    return table;
  }
}

// Built-in kinds of @kubernetes/client-node, in one place.
const builtIns: Array<[ResourceClass, string, string, string, string, boolean]> = [
  [V1Pod, '', 'v1', 'Pod', 'pods', true],
  [V1ConfigMap, '', 'v1', 'ConfigMap', 'configmaps', true],
  [V1Secret, '', 'v1', 'Secret', 'secrets', true],
  [V1Service, '', 'v1', 'Service', 'services', true],
  [V1ServiceAccount, '', 'v1', 'ServiceAccount', 'serviceaccounts', true],
  [V1Endpoints, '', 'v1', 'Endpoints', 'endpoints', true],
  [V1PersistentVolumeClaim, '', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true],
  [V1LimitRange, '', 'v1', 'LimitRange', 'limitranges', true],
  [V1ResourceQuota, '', 'v1', 'ResourceQuota', 'resourcequotas', true],
  [CoreV1Event, '', 'v1', 'Event', 'events', true],
  [V1Namespace, '', 'v1', 'Namespace', 'namespaces', false],
  [V1Node, '', 'v1', 'Node', 'nodes', false],
  [V1PersistentVolume, '', 'v1', 'PersistentVolume', 'persistentvolumes', false],
  [V1Deployment, 'apps', 'v1', 'Deployment', 'deployments', true],
  [V1ReplicaSet, 'apps', 'v1', 'ReplicaSet', 'replicasets', true],
  [V1StatefulSet, 'apps', 'v1', 'StatefulSet', 'statefulsets', true],
  [V1DaemonSet, 'apps', 'v1', 'DaemonSet', 'daemonsets', true],
  [V1Job, 'batch', 'v1', 'Job', 'jobs', true],
  [V1CronJob, 'batch', 'v1', 'CronJob', 'cronjobs', true],
  [V2HorizontalPodAutoscaler, 'autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true],
  [V1PodDisruptionBudget, 'policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true],
  [V1Ingress, 'networking.k8s.io', 'v1', 'Ingress', 'ingresses', true],
  [V1NetworkPolicy, 'networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true],
  [V1IngressClass, 'networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false],
  [V1EndpointSlice, 'discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true],
  [V1Role, 'rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true],
  [V1RoleBinding, 'rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true],
  [V1ClusterRole, 'rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false],
  [V1ClusterRoleBinding, 'rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false],
  [V1Lease, 'coordination.k8s.io', 'v1', 'Lease', 'leases', true],
  [EventsV1Event, 'events.k8s.io', 'v1', 'Event', 'events', true],
  [V1StorageClass, 'storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false],
  [V1PriorityClass, 'scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false],
  [V1CustomResourceDefinition, 'apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false],
  [V1ValidatingWebhookConfiguration, 'admissionregistration.k8s.io', 'v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false],
  [V1MutatingWebhookConfiguration, 'admissionregistration.k8s.io', 'v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false],
];

/** The kinds of Kubernetes itself that Maestro knows by their client-node model class; fixed. */
export const builtInResources: ResourceTable = ResourceTable.builtIns(
  builtIns.map(([type, group, version, kind, plural, namespaced]) => [type, { group, version, kind, plural, namespaced }]),
);
