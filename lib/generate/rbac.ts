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
import { OperatorConfigurationError, collectSpecs, type OperatorSpec, type ParentSpec } from '../declare/specs.js';
import { builtInResources, type ResourceInfo } from '../resources/index.js';
import { isDnsLabel, isDnsSubdomain } from '../api/names.js';
// Data only (the rules secure serving needs); the generators load no serving code.
import { metricsAuthClusterRole, metricsReaderClusterRole } from '../server/rbac.js';
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
  /**
   * Secure metrics serving (the runtime's default, `server.secure`): a ClusterRole and
   * ClusterRoleBinding `<name>-metrics-auth` letting the operator create TokenReviews and
   * SubjectAccessReviews, and the ClusterRole `<name>-metrics-reader` (`get` on `/metrics`)
   * to bind scrapers to. Default `true`; `false` for an operator run with `server: false`
   * or `server: { secure: false }`.
   */
  metricsAuth?: boolean;
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

const EVENTS = builtInResources.of({ apiVersion: 'v1', kind: 'Event' });
const LEASES = builtInResources.of({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' });
const RBAC_GROUP = 'rbac.authorization.k8s.io';

/**
 * What the runtime itself calls, as RBAC verbs: change this table when the runtime changes
 * what it sends. (The RBAC audit test, test/generate/rbac-audit.integration.test.ts, runs an
 * operator under the generated RBAC with the API server's audit log and fails when a granted
 * verb goes unused or a used one is not granted.)
 */
export const RUNTIME_VERBS = Object.freeze({
  /** The cache lists and watches the parent kind and every watched kind. */
  watch: Object.freeze(['list', 'watch']),
  /**
   * Finalizers are added with a merge patch of the parent and removed with a JSON patch; a
   * removal that finds the list moved reads the parent again, and so does the check that a
   * parent deleted with our finalizer on it (kubernetes#77988) is really gone.
   */
  finalizers: Object.freeze(['get', 'patch']),
  /** The status writer patches the status subresource (a `@StatusConditions` class is expected to do the same). */
  status: Object.freeze(['patch']),
  /** The default status writer re-reads the parent from the API server after a `409 Conflict`. */
  statusConflictRead: Object.freeze(['get']),
  /**
   * `apply` sets `blockOwnerDeletion` on children's owner references; the
   * OwnerReferencesPermissionEnforcement admission plugin (on in OpenShift) allows that only
   * with `update` on the owner's `finalizers` subresource. An authorization check, not a request.
   */
  ownerFinalizers: Object.freeze(['update']),
  /** `client.apply` is server-side apply: a PATCH, which needs `create` too when it creates the object. */
  apply: Object.freeze(['create', 'patch']),
  /** Events are created, and repeats counted with a merge patch. */
  events: Object.freeze(['create', 'patch']),
});

/** One grant before merging: verbs on a kind, or on one of its subresources. */
interface Grant {
  resource: ResourceInfo;
  verbs: readonly string[];
  subresource?: string;
}

/**
 * Everything one parent's controller needs, in one place: its parent kind, the kinds it
 * watches (`@Owns`, `@Watches`) or indexes (`@Index`), owns and uses. Kinds the cache holds
 * get `list` and `watch` ({@link watchPermissions}); reads that go to the API server are
 * declared with `@Uses`.
 */
function parentGrants(parent: ParentSpec): Grant[] {
  const grants: Grant[] = [{ resource: parent.resource, verbs: RUNTIME_VERBS.watch }];
  if (parent.finalizers.length > 0) grants.push({ resource: parent.resource, verbs: RUNTIME_VERBS.finalizers });
  grants.push({ resource: parent.resource, verbs: RUNTIME_VERBS.status, subresource: 'status' });
  if (!parent.statusHandler) grants.push({ resource: parent.resource, verbs: RUNTIME_VERBS.statusConflictRead });
  if (parent.owns.length > 0) grants.push({ resource: parent.resource, verbs: RUNTIME_VERBS.ownerFinalizers, subresource: 'finalizers' });
  grants.push(...watchPermissions(parent));
  for (const owned of parent.owns) grants.push({ resource: owned.resource, verbs: owned.verbs });
  for (const used of parent.uses) {
    grants.push({ resource: used.resource, verbs: used.verbs });
    for (const subresource of used.subresources) grants.push({ resource: used.resource, verbs: used.verbs, subresource });
  }
  return grants;
}


const isSpec = (item: unknown): item is ParentSpec => typeof item === 'object' && item !== null && 'steps' in item && 'resource' in item;

/** The parent specs of the input (building them from classes). */
function parentSpecsOf(source: RBACSource, registry: Registry): ParentSpec[] {
  const items = 'parents' in source ? source.parents : source;
  const classes = items.filter((item) => !isSpec(item));
  const specs = items.filter(isSpec);
  if (classes.length > 0) {
    const { spec, problems } = collectSpecs({ registry, components: classes });
    if (problems.length > 0) throw new RBACGenerationError(`cannot generate RBAC:\n  - ${problems.join('\n  - ')}`, { cause: new OperatorConfigurationError(problems) });
    specs.push(...spec.parents);
  }
  return specs;
}

function normalizeVerbs(verbs: Iterable<string>): string[] {
  const unique = [...new Set(verbs)];
  return unique.includes('*') ? ['*'] : unique.sort();
}

/**
 * Every permission the operator's controllers need, merged by API group and resource and
 * sorted (see {@link RUNTIME_VERBS} for what the runtime calls):
 * - each parent kind: `list`, `watch`; `patch` with finalizers; `get` with the default
 *   status writer (its re-read after a conflict); `status`: `patch`; `finalizers`: `update`
 *   when it owns kinds;
 * - each watched or indexed kind (`@Owns`, `@Watches`, `@Index`): `list`, `watch`; each `@Owns` kind its verbs (default `create`,
 *   `patch`: server-side apply); each `@Uses` kind its verbs (on each declared subresource too);
 * - core Events: `create`, `patch`.
 * Leases and the metrics RBAC are not included (see {@link generateRBAC}).
 *
 * @throws {@link RBACGenerationError} for a class that is not a component, or an unknown kind.
 * @example
 * ```ts
 * requiredPermissions([WidgetConfigMap]);
 * // [{ group: '', resource: 'configmaps', namespaced: true, verbs: ['create', 'list', 'patch', 'watch'] }, ...]
 * ```
 */
export function requiredPermissions(source: RBACSource, registry: Registry = Registry.default): Permission[] {
  const grants = new Map<string, { group: string; resource: string; namespaced: boolean; verbs: Set<string> }>();
  const grant = ({ resource: kind, verbs, subresource }: Grant) => {
    const resource = subresource ? `${kind.plural}/${subresource}` : kind.plural;
    const key = `${kind.group}\n${resource}`;
    const entry = grants.get(key) ?? { group: kind.group, resource, namespaced: kind.namespaced, verbs: new Set<string>() };
    for (const verb of verbs) entry.verbs.add(verb);
    grants.set(key, entry);
  };
  for (const parent of parentSpecsOf(source, registry)) parentGrants(parent).forEach(grant);
  if (grants.size > 0) grant({ resource: EVENTS, verbs: RUNTIME_VERBS.events });
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
 *   namespace: create Leases, get and update the Lease by name;
 * - unless `metricsAuth: false`: the ClusterRole and ClusterRoleBinding `<name>-metrics-auth`
 *   (create TokenReviews and SubjectAccessReviews, for authenticated metrics) and the
 *   ClusterRole `<name>-metrics-reader` for scrapers (not bound: bind your Prometheus to it).
 *
 * No `update` and no `delete` on children: `apply` is server-side apply (`patch`, and
 * `create` when it creates). Clusters with the OwnerReferencesPermissionEnforcement admission
 * plugin (OpenShift) check `update` on the parent's `finalizers` (granted) when `apply` sets
 * `blockOwnerDeletion`, and `delete` on a child whose owner references change after it was
 * created (adopting an existing object): declare `delete` in `@Owns` if the operator adopts.
 *
 * `source` is what the operator is built from: component classes (the `reconcilers` of
 * `createOperator`, e.g. `discoveredComponents()`), or its specs (`buildSpecs()`).
 * Objects come in a stable order (ServiceAccount, the operator's roles, metrics, leader election),
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
  const parents = parentSpecsOf(source, registry);
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
    if (parents.some((p) => !p.resource.namespaced) && !namespaces.includes('default')) {
      role(name, 'default', policyRules(namespaced.filter((p) => p.group === EVENTS.group && p.resource === EVENTS.plural)));
    }
  }

  if (options.metricsAuth ?? true) {
    const auth = metricsAuthClusterRole(name, labels);
    objects.push(
      auth,
      {
        apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRoleBinding', metadata: { name: auth.metadata.name, labels },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: auth.metadata.name }, subjects,
      } satisfies V1ClusterRoleBinding,
      metricsReaderClusterRole(name, labels),
    );
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
