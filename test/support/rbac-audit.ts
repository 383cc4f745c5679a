// Comparing what RBAC grants with what a client really did, from the API server's audit log:
// every request is matched against the rules of the roles bound to the client's
// ServiceAccount (RBAC's own matching: API group, resource/subresource, verb, resource name,
// namespace of a Role), and every granted (resource, verb) is matched against the requests.
import type { KubernetesObject, V1ClusterRole, V1ClusterRoleBinding, V1PolicyRule, V1Role, V1RoleBinding } from '@kubernetes/client-node';
import type { AuditEvent } from '../../lib/testing/index.js';

/** One verb on one resource (or subresource), as a bound role grants it. */
export interface Grant {
  /** `ClusterRole x` (bound cluster-wide) or `Role ns/x`. */
  role: string;
  /** Undefined for a ClusterRole bound by a ClusterRoleBinding (every namespace and cluster scope). */
  namespace?: string;
  group: string;
  /** `plural` or `plural/subresource`. */
  resource: string;
  verb: string;
  resourceName?: string;
}

/** One kind of request the client made: verb on a resource, and how often. */
export interface Use {
  group: string;
  resource: string;
  verb: string;
  /** Namespaces the requests went to (`(cluster)` for cluster scope). */
  namespaces: Set<string>;
  names: Set<string>;
  count: number;
  /** HTTP status codes seen. */
  codes: Set<number>;
  /** Whether the verb is implied rather than sent: a server-side apply (PATCH) that created its object needs `create`. */
  implied?: string;
}

/** The comparison. */
export interface RBACAudit {
  grants: Array<Grant & { uses: number; usedBy: string[] }>;
  uses: Array<Use & { grantedBy: string[] }>;
  /** Requests the API server's authorizer did not allow (`authorization.k8s.io/decision` ≠ allow). */
  forbidden: AuditEvent[];
}

const isRef = (o: KubernetesObject, kind: string) => o.kind === kind;

/** The grants of `objects` (generated RBAC) to the ServiceAccount `namespace/name`. */
export function grantsTo(objects: readonly KubernetesObject[], account: { name: string; namespace: string }): Grant[] {
  const bindsAccount = (b: V1RoleBinding | V1ClusterRoleBinding) =>
    (b.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === account.name && s.namespace === account.namespace);
  const clusterRoles = new Map(objects.filter((o) => isRef(o, 'ClusterRole')).map((o) => [o.metadata!.name!, o as V1ClusterRole]));
  const roles = new Map(objects.filter((o) => isRef(o, 'Role')).map((o) => [`${o.metadata!.namespace}/${o.metadata!.name}`, o as V1Role]));
  const grants: Grant[] = [];
  const expand = (role: string, rules: readonly V1PolicyRule[], namespace?: string) => {
    for (const rule of rules) {
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs) {
            for (const resourceName of rule.resourceNames?.length ? rule.resourceNames : [undefined]) {
              grants.push({ role, ...(namespace ? { namespace } : {}), group, resource, verb, ...(resourceName ? { resourceName } : {}) });
            }
          }
        }
      }
    }
  };
  for (const binding of objects.filter((o) => isRef(o, 'ClusterRoleBinding')) as V1ClusterRoleBinding[]) {
    if (!bindsAccount(binding)) continue;
    const role = clusterRoles.get(binding.roleRef.name);
    if (role) expand(`ClusterRole ${binding.roleRef.name}`, role.rules ?? []);
  }
  for (const binding of objects.filter((o) => isRef(o, 'RoleBinding')) as V1RoleBinding[]) {
    if (!bindsAccount(binding)) continue;
    const namespace = binding.metadata!.namespace!;
    const rules = binding.roleRef.kind === 'ClusterRole'
      ? clusterRoles.get(binding.roleRef.name)?.rules
      : roles.get(`${namespace}/${binding.roleRef.name}`)?.rules;
    expand(`${binding.roleRef.kind} ${namespace}/${binding.roleRef.name}`, rules ?? [], namespace);
  }
  return grants;
}

const any = (granted: string, wanted: string) => granted === '*' || granted === wanted;

/** Whether `grant` allows one request (RBAC's rule matching). */
function allows(grant: Grant, request: { group: string; resource: string; verb: string; namespace?: string; name?: string }): boolean {
  if (!any(grant.group, request.group) || !any(grant.resource, request.resource) || !any(grant.verb, request.verb)) return false;
  if (grant.namespace !== undefined && grant.namespace !== request.namespace) return false;
  return grant.resourceName === undefined || grant.resourceName === request.name;
}

/**
 * Compares the `grants` with the `events` of one user: each request (and each verb a request
 * implies) with the grants that allow it, each grant with the requests it allowed.
 */
export function compare(grants: readonly Grant[], events: readonly AuditEvent[]): RBACAudit {
  const uses = new Map<string, Use & { grantedBy: Set<string> }>();
  const usesOf = grants.map(() => ({ uses: 0, usedBy: new Set<string>() }));
  const forbidden: AuditEvent[] = [];
  const record = (event: AuditEvent, verb: string, implied?: string) => {
    const ref = event.objectRef ?? {};
    const group = ref.apiGroup ?? '';
    const resource = ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource ?? event.requestURI;
    const request = { group, resource, verb, namespace: ref.namespace, name: ref.name };
    const key = `${group}\n${resource}\n${verb}\n${implied ?? ''}`;
    const use = uses.get(key) ?? { group, resource, verb, namespaces: new Set<string>(), names: new Set<string>(), count: 0, codes: new Set<number>(), grantedBy: new Set<string>(), ...(implied ? { implied } : {}) };
    use.count++;
    use.namespaces.add(ref.namespace ?? '(cluster)');
    if (ref.name) use.names.add(ref.name);
    if (event.responseStatus?.code) use.codes.add(event.responseStatus.code);
    grants.forEach((grant, i) => {
      if (!allows(grant, request)) return;
      use.grantedBy.add(grant.namespace ? `${grant.role}` : grant.role);
      usesOf[i]!.uses++;
      usesOf[i]!.usedBy.add(`${verb}${implied ? ` (${implied})` : ''}`);
    });
    uses.set(key, use);
  };
  for (const event of events) {
    if (event.annotations?.['authorization.k8s.io/decision'] !== 'allow') forbidden.push(event);
    record(event, event.verb);
    // Server-side apply that created the object: the API server also authorized `create`.
    if (event.verb === 'patch' && event.responseStatus?.code === 201) record(event, 'create', 'a server-side apply that created the object');
  }
  return {
    grants: grants.map((g, i) => ({ ...g, uses: usesOf[i]!.uses, usedBy: [...usesOf[i]!.usedBy] })),
    uses: [...uses.values()].map((u) => ({ ...u, grantedBy: [...u.grantedBy] })),
    forbidden,
  };
}

const resourceOf = (r: { group: string; resource: string }) => (r.group ? `${r.resource}.${r.group}` : r.resource);

/** Rows as aligned columns. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The two tables, for the test's output. */
export function formatAudit(title: string, audit: RBACAudit, notes: Record<string, string> = {}): string {
  const granted = audit.grants.map((g) => {
    const note = notes[`${g.group}/${g.resource}:${g.verb}`];
    return [g.role, resourceOf({ group: g.group, resource: `${g.resource}${g.resourceName ? `[${g.resourceName}]` : ''}` }), g.verb,
      g.uses > 0 ? String(g.uses) : note ? `0 (${note})` : '0  <- UNUSED'];
  });
  const used = audit.uses.map((u) => [resourceOf(u), u.verb, String(u.count), [...u.codes].sort().join(','),
    `${u.grantedBy.length ? u.grantedBy.join(', ') : '<- NOT GRANTED'}${u.implied ? ` (implied by ${u.implied})` : ''}`]);
  return [
    title, '',
    ...table(['GRANTED TO THE OPERATOR', 'RESOURCE', 'VERB', 'REQUESTS IT ALLOWED'], granted), '',
    ...table(['USED (AUDIT LOG)', 'VERB', 'REQUESTS', 'CODES', 'GRANTED BY'], used),
    ...(audit.forbidden.length ? ['', `  ${audit.forbidden.length} request(s) the authorizer did not allow`] : []),
  ].join('\n');
}
