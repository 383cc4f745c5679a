/**
 * Least-privilege RBAC for an operator, from what its decorators declare: the parent
 * kinds it reconciles, what it `@Owns` and `@Uses`, the Events it records and the Lease
 * it elects a leader on.
 *
 * @module
 */
import type {
  V1ClusterRole, V1ClusterRoleBinding, V1PolicyRule, V1Role, V1RoleBinding, V1ServiceAccount,
} from '@kubernetes/client-node';
import { Registry } from '../declare/registry.js';
import { OperatorConfigurationError, collectSpecs, type KindSpec, type OperatorSpec, type ParentSpec } from '../declare/specs.js';
import { builtInResources, type ResourceInfo } from '../resources/index.js';
import { isDnsLabel, isDnsSubdomain } from '../api/names.js';
import { RBACGenerationError } from './errors.js';
import { watchPermissions } from './watch-rbac.js';
import { toYAML } from './yaml.js';

/** Options of {@link generateRBAC}. */
export interface RBACOptions {
  /**
   * The operator's name (`createOperator({ name })`): the name of the roles and bindings,
   * and the default Lease name.
   */
  name: string;
  /** The identity the operator runs as; the output includes this ServiceAccount. */
  serviceAccount: { name: string; namespace: string };
  /**
   * The namespaces a namespaced operator watches (`createOperator({ namespaces })`): a Role
   * and RoleBinding in each (cluster-scoped kinds still need a ClusterRole). Default: a
   * cluster-wide operator, with a ClusterRole and ClusterRoleBinding.
   */
  namespaces?: string[];
  /**
   * Leader election on a Lease (`createOperator({ leaderElection })`): a Role in the
   * Lease's namespace to create it and to get and update it by name. `true` means the
   * service account's namespace (the operator's `POD_NAMESPACE`) and the Lease name `name`.
   */
  leaderElection?: boolean | { namespace?: string; leaseName?: string };
  /** Where the declarations of component classes are read (default: `Registry.default`). */
  registry?: Registry;
}

/** What {@link generateRBAC} returns. */
export type RBACObject = V1ServiceAccount | V1ClusterRole | V1ClusterRoleBinding | V1Role | V1RoleBinding;

/**
 * What RBAC is generated from: the operator's specs (`buildSpecs()`), or its component
 * classes (the `reconcilers` of `createOperator`), whose declarations are read from
 * `options.registry`.
 */
export type RBACSource = OperatorSpec | ReadonlyArray<ParentSpec | (abstract new (...args: never[]) => unknown)>;

/** One permission before it becomes a rule: verbs on a resource (or `resource/subresource`) of an API group. */
export interface Permission {
  /** API group, `''` for the core group. */
  group: string;
  /** Plural, or `plural/subresource`. */
  resource: string;
  /** Whether a Role can grant it (cluster-scoped kinds need a ClusterRole). */
  namespaced: boolean;
  /** Sorted, without duplicates. */
  verbs: string[];
}

/** Verbs on the parent kind: the cache lists and watches it, finalizers are patched. */
const PARENT_VERBS = ['get', 'list', 'watch', 'update', 'patch'];
/** Conditions and observedGeneration are written through the status subresource. */
const STATUS_VERBS = ['get', 'update', 'patch'];
/** `apply` sets blockOwnerDeletion on children's owner references, which needs update on `<parent>/finalizers`. */
const FINALIZERS_VERBS = ['update'];
/** Events are created, and repeats counted with a merge patch. */
const EVENT_VERBS = ['create', 'patch'];
const EVENTS = builtInResources.of({ apiVersion: 'v1', kind: 'Event' });
const LEASES = builtInResources.of({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' });
const RBAC_GROUP = 'rbac.authorization.k8s.io';

interface ParentNeeds {
  resource: ResourceInfo;
  owns: KindSpec[];
  uses: KindSpec[];
  /** list + watch on watched and indexed kinds (watch-rbac.ts). */
  cached: Array<{ resource: ResourceInfo; verbs: readonly string[] }>;
}

const isSpec = (item: unknown): item is ParentSpec => typeof item === 'object' && item !== null && 'steps' in item && 'resource' in item;

/** The parent specs of the input (building them from classes), merged by parent kind. */
function needsOf(source: RBACSource, registry: Registry): ParentNeeds[] {
  const items = 'parents' in source ? source.parents : source;
  const classes = items.filter((item) => !isSpec(item));
  const specs = items.filter(isSpec);
  if (classes.length > 0) {
    const { spec, problems } = collectSpecs({ registry, components: classes });
    if (problems.length > 0) throw new RBACGenerationError(`cannot generate RBAC:\n  - ${problems.join('\n  - ')}`, { cause: new OperatorConfigurationError(problems) });
    specs.push(...spec.parents);
  }
  const byParent = new Map<ResourceInfo, ParentNeeds>();
  for (const parent of specs) {
    const needs = byParent.get(parent.resource) ?? { resource: parent.resource, owns: [], uses: [], cached: [] };
    needs.owns.push(...parent.owns);
    needs.uses.push(...parent.uses);
    needs.cached.push(...watchPermissions(parent));
    byParent.set(parent.resource, needs);
  }
  return [...byParent.values()];
}

function normalizeVerbs(verbs: Iterable<string>): string[] {
  const unique = [...new Set(verbs)];
  return unique.includes('*') ? ['*'] : unique.sort();
}

/**
 * Every permission the operator needs, merged by API group and resource and sorted:
 * parents (get, list, watch, update, patch; `status`: get, update, patch; `finalizers`:
 * update), `@Owns` kinds with their verbs, watched and indexed kinds (`@Watches`,
 * `@Owns`, `@Index`: list, watch), `@Uses` kinds with their verbs (on each
 * declared subresource too), and core Events (create, patch). Leases are not included
 * (see {@link generateRBAC}).
 *
 * @throws {@link RBACGenerationError} for a class that is not a component, or an unknown kind.
 * @example
 * ```ts
 * requiredPermissions([WidgetConfigMap]);
 * // [{ group: '', resource: 'configmaps', namespaced: true, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }, ...]
 * ```
 */
export function requiredPermissions(source: RBACSource, registry: Registry = Registry.default): Permission[] {
  const grants = new Map<string, { group: string; resource: string; namespaced: boolean; verbs: Set<string> }>();
  const grant = (kind: ResourceInfo, verbs: readonly string[], subresource?: string) => {
    const resource = subresource ? `${kind.plural}/${subresource}` : kind.plural;
    const key = `${kind.group}\n${resource}`;
    const entry = grants.get(key) ?? { group: kind.group, resource, namespaced: kind.namespaced, verbs: new Set<string>() };
    for (const verb of verbs) entry.verbs.add(verb);
    grants.set(key, entry);
  };
  for (const needs of needsOf(source, registry)) {
    grant(needs.resource, PARENT_VERBS);
    grant(needs.resource, STATUS_VERBS, 'status');
    grant(needs.resource, FINALIZERS_VERBS, 'finalizers');
    for (const owned of needs.owns) grant(owned.resource, owned.verbs);
    for (const cached of needs.cached) grant(cached.resource, cached.verbs);
    for (const used of needs.uses) {
      grant(used.resource, used.verbs);
      for (const sub of used.subresources) grant(used.resource, used.verbs, sub);
    }
  }
  if (grants.size > 0) grant(EVENTS, EVENT_VERBS);
  return [...grants.values()]
    .map((g) => ({ group: g.group, resource: g.resource, namespaced: g.namespaced, verbs: normalizeVerbs(g.verbs) }))
    .sort((a, b) => a.group.localeCompare(b.group) || a.resource.localeCompare(b.resource));
}

/**
 * Policy rules from permissions: one rule per API group and set of verbs, listing its
 * resources; sorted by group, then resource.
 *
 * @example
 * ```ts
 * policyRules([{ group: '', resource: 'configmaps', namespaced: true, verbs: ['get'] }]);
 * // [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]
 * ```
 */
export function policyRules(permissions: readonly Permission[]): V1PolicyRule[] {
  const byGroupAndVerbs = new Map<string, { group: string; verbs: string[]; resources: Set<string> }>();
  for (const p of permissions) {
    const verbs = normalizeVerbs(p.verbs);
    const key = `${p.group}\n${verbs.join(',')}`;
    const entry = byGroupAndVerbs.get(key) ?? { group: p.group, verbs, resources: new Set<string>() };
    entry.resources.add(p.resource);
    byGroupAndVerbs.set(key, entry);
  }
  return [...byGroupAndVerbs.values()]
    .map((e) => ({ apiGroups: [e.group], resources: [...e.resources].sort(), verbs: e.verbs }))
    .sort((a, b) => a.apiGroups[0]!.localeCompare(b.apiGroups[0]!) || a.resources[0]!.localeCompare(b.resources[0]!));
}


function checkOptions(options: RBACOptions): void {
  const problems: string[] = [];
  const check = (what: string, value: unknown, valid: (value: unknown) => boolean, max: number) => {
    if (!valid(value)) problems.push(`${what} '${String(value)}' is not a valid Kubernetes name (lower-case letters, digits and '-', at most ${max} characters)`);
  };
  check('name', options.name, isDnsSubdomain, 253);
  check('serviceAccount.name', options.serviceAccount?.name, isDnsSubdomain, 253);
  check('serviceAccount.namespace', options.serviceAccount?.namespace, isDnsLabel, 63);
  if (options.namespaces !== undefined) {
    if (options.namespaces.length === 0) problems.push('namespaces is empty: list the namespaces the operator watches, or omit it for a cluster-wide operator');
    for (const ns of options.namespaces) check('namespace', ns, isDnsLabel, 63);
  }
  if (typeof options.leaderElection === 'object') {
    if (options.leaderElection.namespace !== undefined) check('leaderElection.namespace', options.leaderElection.namespace, isDnsLabel, 63);
    if (options.leaderElection.leaseName !== undefined) check('leaderElection.leaseName', options.leaderElection.leaseName, isDnsSubdomain, 253);
  }
  if (problems.length > 0) throw new RBACGenerationError(`invalid RBAC options:\n  - ${problems.join('\n  - ')}`);
}

/**
 * The RBAC objects an operator needs, least privilege (see {@link requiredPermissions}):
 *
 * - the ServiceAccount `options.serviceAccount`;
 * - cluster-wide (no `namespaces`): a ClusterRole `name` and ClusterRoleBinding `name`;
 * - namespaced: a Role `name` and RoleBinding `name` in each namespace, plus a ClusterRole
 *   and ClusterRoleBinding only for cluster-scoped kinds (which are watched cluster-wide),
 *   and Events in `default` when a parent is cluster-scoped (that is where its Events go);
 * - with `leaderElection`: a Role and RoleBinding `<name>-leader-election` in the Lease's
 *   namespace: create Leases, get and update the Lease by name.
 *
 * Clusters with the OwnerReferencesPermissionEnforcement admission plugin (OpenShift) also
 * require `delete` on a kind to set owner references on its objects, which `apply` does
 * for children: keep `delete` when narrowing `@Owns` verbs for such clusters.
 *
 * `source` is what the operator is built from: component classes (the `reconcilers` of
 * `createOperator`, e.g. `discoveredComponents()`), or its specs (`buildSpecs()`).
 * Objects come in a stable order (ServiceAccount, cluster objects, then per namespace),
 * each Role before its binding, ready to create in sequence.
 *
 * @throws {@link RBACGenerationError} for classes that are not components, unknown kinds, or invalid options.
 * @example
 * ```ts
 * const objects = generateRBAC([SiteReconciler, SiteCleanup], {
 *   name: 'site-operator', serviceAccount: { name: 'site-operator', namespace: 'operators' }, leaderElection: true,
 * });
 * ```
 */
export function generateRBAC(source: RBACSource, options: RBACOptions): RBACObject[] {
  checkOptions(options);
  const registry = options.registry ?? Registry.default;
  const needs = needsOf(source, registry);
  const permissions = requiredPermissions(source, registry);
  const { name } = options;
  const labels = { 'app.kubernetes.io/name': name };
  const subjects = [{ kind: 'ServiceAccount', name: options.serviceAccount.name, namespace: options.serviceAccount.namespace }];
  const objects: RBACObject[] = [{
    apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: options.serviceAccount.name, namespace: options.serviceAccount.namespace, labels },
  } satisfies V1ServiceAccount];

  const clusterRole = (rules: V1PolicyRule[]) => {
    objects.push(
      { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: { name, labels }, rules } satisfies V1ClusterRole,
      {
        apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRoleBinding', metadata: { name, labels },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name }, subjects,
      } satisfies V1ClusterRoleBinding,
    );
  };
  const role = (roleName: string, namespace: string, rules: V1PolicyRule[]) => {
    objects.push(
      { apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role', metadata: { name: roleName, namespace, labels }, rules } satisfies V1Role,
      {
        apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding', metadata: { name: roleName, namespace, labels },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: roleName }, subjects,
      } satisfies V1RoleBinding,
    );
  };

  if (options.namespaces === undefined) {
    if (permissions.length > 0) clusterRole(policyRules(permissions));
  } else {
    const cluster = permissions.filter((p) => !p.namespaced);
    const namespaced = permissions.filter((p) => p.namespaced);
    if (cluster.length > 0) clusterRole(policyRules(cluster));
    const namespaces = [...new Set(options.namespaces)].sort();
    for (const ns of namespaces) if (namespaced.length > 0) role(name, ns, policyRules(namespaced));
    // Events about cluster-scoped objects are recorded in `default`.
    if (needs.some((n) => !n.resource.namespaced) && !namespaces.includes('default')) {
      role(name, 'default', policyRules(namespaced.filter((p) => p.group === EVENTS.group && p.resource === EVENTS.plural)));
    }
  }

  if (options.leaderElection) {
    const le = options.leaderElection === true ? {} : options.leaderElection;
    const namespace = le.namespace ?? options.serviceAccount.namespace;
    const leaseName = le.leaseName ?? name;
    role(`${name}-leader-election`, namespace, [
      // create cannot be limited to a name; get and update can.
      { apiGroups: [LEASES.group], resources: [LEASES.plural], verbs: ['create'] },
      { apiGroups: [LEASES.group], resources: [LEASES.plural], resourceNames: [leaseName], verbs: ['get', 'update'] },
    ]);
  }
  return objects;
}

/**
 * {@link generateRBAC} as multi-document YAML, for `kubectl apply -f`.
 *
 * @example
 * ```ts
 * writeFileSync('config/rbac.yaml', rbacYAML(discoveredComponents(), { name: 'site-operator', serviceAccount, namespaces: ['web'] }));
 * ```
 */
export function rbacYAML(source: RBACSource, options: RBACOptions): string {
  return toYAML(generateRBAC(source, options));
}
