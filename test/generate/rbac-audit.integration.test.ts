// The proof of #12's least privilege: operators run under exactly the generated RBAC (a
// ServiceAccount token), on an API server that writes an audit log, through their whole life
// (create, update, a failure that repeats, a status write that loses a race, delete with a
// finalizer, leader election, authenticated metrics scrapes). Every request the operator made
// must be allowed by a generated rule, and every generated rule must have been used by some
// request. The API server also enforces OwnerReferencesPermissionEnforcement (as OpenShift
// does), whose admission check is what the `<parent>/finalizers` grant is for.
import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  AuthorizationV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, RbacAuthorizationV1Api, loadAllYaml,
  type KubeConfig, type KubernetesObject,
} from '@kubernetes/client-node';
import { generateCRD, generateRBAC } from '../../lib/generate/index.js';
import type { Operator } from '../../lib/index.js';
import {
  controlPlaneAssets, createApiServerAudit, eventually, startControlPlane, type ApiServerAudit, type ControlPlane,
} from '../../lib/testing/index.js';
import { StaticSite } from '../../samples/static-site/site.js';
import { SITE_DIRECTORY, staticSiteComponents } from '../../samples/static-site/reconcilers.js';
import { Vault, VaultCleanup, vault, vaultComponents } from '../support/audit-operator.js';
import { applyYAML } from '../support/generate-kubectl.js';
import { get } from '../support/https-client.js';
import { hasIPv6Loopback } from '../support/ipv6.js';
import { startOperator, stopOperators } from '../support/operators.js';
import { compare, formatAudit, grantsTo, type RBACAudit } from '../support/rbac-audit.js';
import { createAll, rejectionOf, serviceAccountKubeConfig, statusOf } from '../support/service-account.js';

const deployFile = (name: string) => fileURLToPath(new URL(`../../../samples/static-site/deploy/${name}`, import.meta.url));
const userOf = (account: { name: string; namespace: string }) => `system:serviceaccount:${account.namespace}:${account.name}`;
const fast = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };

/** Grants no request exercises, with the reason (checked by admission, not sent). */
const ADMISSION_ONLY = (parentPlural: string, group: string): Record<string, string> => ({
  [`${group}/${parentPlural}/finalizers:update`]: 'checked by OwnerReferencesPermissionEnforcement on each child created with blockOwnerDeletion; not a request',
});

/** Every granted verb used (but the admission-only ones), every used verb granted, nothing forbidden. */
function expectExact(audit: RBACAudit, admissionOnly: Record<string, string>): void {
  const unused = audit.grants.filter((g) => g.uses === 0 && !admissionOnly[`${g.group}/${g.resource}:${g.verb}`]);
  expect(unused.map((g) => `${g.role}: ${g.verb} ${g.resource}.${g.group}`), 'granted but never used').to.deep.equal([]);
  const ungranted = audit.uses.filter((u) => u.grantedBy.length === 0);
  expect(ungranted.map((u) => `${u.verb} ${u.resource}.${u.group}`), 'used but not granted').to.deep.equal([]);
  expect(audit.forbidden.map((e) => `${e.verb} ${e.requestURI}`), 'requests the authorizer refused').to.deep.equal([]);
  for (const key of Object.keys(admissionOnly)) {
    expect(audit.grants.some((g) => `${g.group}/${g.resource}:${g.verb}` === key), `${key} is granted`).to.equal(true);
  }
}

/** A ServiceAccount and its token, for scrapers. */
async function account(plane: ControlPlane, namespace: string, name: string): Promise<string> {
  await plane.kubeConfig.makeApiClient(CoreV1Api).createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  return (await serviceAccountKubeConfig(plane.kubeConfig, { name, namespace })).getCurrentUser()!.token!;
}

/** Scrapes /metrics as a client with `token` (trusting the operator's certificate). */
async function scrape(operator: Operator, token?: string, host?: string) {
  const url = new URL(operator.metricsUrl!);
  if (host) url.hostname = host;
  return get(`${url.origin}/metrics`, { ca: operator.manager.serving!.metrics.certificatePem!, ...(token ? { token } : {}) });
}

describe('RBAC audit: operators under exactly the generated RBAC, checked against the API server audit log', function () {
  this.timeout(300_000);
  let audit: ApiServerAudit;
  let plane: ControlPlane;
  let admin: KubernetesObjectApi;
  let core: CoreV1Api;

  before(async () => {
    audit = await createApiServerAudit();
    plane = await startControlPlane({
      assets: await controlPlaneAssets(),
      apiServerFlags: { ...audit.apiServerFlags, 'enable-admission-plugins': 'OwnerReferencesPermissionEnforcement' },
    });
    admin = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
    core = plane.kubeConfig.makeApiClient(CoreV1Api);
    // Both CRDs at once: the admission plugin learns new kinds within 30 s (its RESTMapper's resync).
    await plane.installCRDs([deployFile('crd.yaml'), generateCRD(Vault)]);
  });
  after(async () => {
    await stopOperators();
    await plane?.stop();
    await audit?.remove();
  });

  describe('the static-site sample, cluster-wide, with its shipped deploy/rbac.yaml', () => {
    const sa = { name: 'static-site-operator', namespace: 'static-site-system' };
    let operator: Operator;
    let namespace: string;
    let since: number;
    let scraperToken: string;
    let strangerToken: string;
    const site = (name: string, spec: Partial<StaticSite['spec']> = {}): StaticSite => ({
      apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name, namespace },
      spec: { image: 'nginx:1.27', replicas: 1, content: `<h1>${name}</h1>`, ...spec },
    });
    const read = (name: string) => admin.read<StaticSite>({ apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name, namespace } });
    const readyOf = async (name: string) => (await read(name)).status?.conditions?.find((c) => c.type === 'Ready');
    const waitReady = (name: string) => eventually(async () => {
      const s = await read(name);
      const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' && s.status?.observedGeneration === s.metadata?.generation ? s : undefined;
    }, { message: `site ${name} Ready for its generation` });

    before(async () => {
      await core.createNamespace({ body: { metadata: { name: sa.namespace } } });
      // The shipped file, as users apply it.
      await applyYAML(plane, await readFile(deployFile('rbac.yaml'), 'utf8'));
      const kubeConfig = await serviceAccountKubeConfig(plane.kubeConfig, sa);
      await eventually(() => kubeConfig.makeApiClient(CoreV1Api).listConfigMapForAllNamespaces({ limit: 1 }), { message: 'the generated ClusterRole takes effect' });
      scraperToken = await account(plane, sa.namespace, 'prometheus');
      strangerToken = await account(plane, sa.namespace, 'stranger');
      await plane.kubeConfig.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({ body: {
        metadata: { name: 'prometheus-static-site-metrics' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'static-site-operator-metrics-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: sa.namespace }],
      } });
      namespace = await plane.createNamespace('sites');
      since = Date.now();
      // The operator as users run it: secure metrics (the default), on every interface.
      operator = await startOperator(kubeConfig, {
        name: 'static-site-operator', reconcilers: staticSiteComponents, cacheSyncTimeoutMs: 30_000,
        leaderElection: { namespace: sa.namespace, ...fast }, server: { metricsPort: 0, probePort: 0 },
      });
      expect(operator.isLeader).to.equal(true);
    });

    it('creates a site: children applied, the site registered in its namespace directory, Ready', async () => {
      await admin.create(site('web'));
      await waitReady('web');
      const directory = await core.readNamespacedConfigMap({ name: SITE_DIRECTORY, namespace });
      expect(directory.data).to.deep.equal({ web: `http://web.${namespace}.svc` });
      expect((await core.readNamespacedConfigMap({ name: 'web-content', namespace })).data?.['index.html']).to.equal('<h1>web</h1>');
    });

    it('updates a site, and re-reads it after its status write lost a race (409)', async () => {
      const before = (await audit.requests({ user: userOf(sa), verb: 'get', resource: 'staticsites', since })).length;
      let attempts = 0;
      // Change the spec, then at once a label: the reconcile of the spec change started from
      // the older version, so its status write conflicts and the writer re-reads the site.
      await eventually(async () => {
        attempts++;
        await admin.patch({ apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name: 'web', namespace }, spec: { content: `<h1>web ${attempts}</h1>` } } as StaticSite, undefined, undefined, 'test', undefined, PatchStrategy.MergePatch);
        await admin.patch({ apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name: 'web', namespace, labels: { touched: String(attempts) } } } as unknown as StaticSite, undefined, undefined, 'test', undefined, PatchStrategy.MergePatch);
        await waitReady('web');
        return (await audit.requests({ user: userOf(sa), verb: 'get', resource: 'staticsites', since })).length > before;
      }, { timeoutMs: 120_000, intervalMs: 100, message: 'a status write conflicted and the site was re-read' });
      expect((await core.readNamespacedConfigMap({ name: 'web-content', namespace })).data?.['index.html']).to.equal(`<h1>web ${attempts}</h1>`);
      console.log(`      (the race was lost after ${attempts} attempt(s))`);
    });

    it('fails on a site whose ConfigMap another controller owns: Ready=False, one Warning Event counting the retries', async () => {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: {
        name: 'taken-content',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'someone-else', uid: '6c0f4c52-8f7e-4a3b-9a53-1f2a3b4c5d6e', controller: true }],
      } } });
      await admin.create(site('taken'));
      const ready = await eventually(async () => {
        const r = await readyOf('taken');
        return r?.status === 'False' ? r : undefined;
      }, { message: 'taken is Ready=False' });
      // Server-side apply merges owner references: the API server refuses a second controller.
      expect(ready.reason).to.equal('Invalid');
      expect(ready.message).to.contain('Only one reference can have Controller set to true');
      const event = await eventually(async () => (await core.listNamespacedEvent({ namespace })).items
        .find((e) => e.involvedObject.name === 'taken' && e.source?.component === 'static-site-operator' && (e.count ?? 0) > 1), { message: 'a repeated Warning Event' });
      expect(event.type).to.equal('Warning');
      // It never became the controller: the other owner is still the only one.
      const cm = await core.readNamespacedConfigMap({ name: 'taken-content', namespace });
      expect(cm.metadata?.ownerReferences?.map((r) => r.name)).to.deep.equal(['someone-else']);
    });

    it('serves /metrics over HTTPS to authorized scrapers only (401, 403, 200 over 127.0.0.1 and [::1]), probes on their own port', async () => {
      const hosts = hasIPv6Loopback() ? ['127.0.0.1', '[::1]'] : ['127.0.0.1'];
      expect(hosts, 'this machine has the IPv6 loopback; both families are tested').to.have.length(2);
      expect(operator.metricsUrl).to.match(/^https:\/\//);
      for (const host of hosts) {
        const anonymous = await scrape(operator, undefined, host);
        expect([anonymous.status, anonymous.headers['www-authenticate']], `${host}: no token`).to.deep.equal([401, 'Bearer']);
        expect((await scrape(operator, 'not-a-token', host)).status, `${host}: invalid token`).to.equal(401);
        const stranger = await scrape(operator, strangerToken, host);
        expect([stranger.status, stranger.body], `${host}: no metrics-reader`).to.deep.equal([403, `Authorization denied for user system:serviceaccount:${sa.namespace}:stranger\n`]);
        const prometheus = await eventually(async () => {
          const res = await scrape(operator, scraperToken, host);
          return res.status === 200 ? res : undefined;
        }, { message: `${host}: the metrics-reader binding takes effect` });
        expect(prometheus.body).to.match(/^controller_runtime_reconcile_total\{controller="staticsite",result="success"\} [1-9]/m);
        const probes = new URL(operator.probesUrl!);
        probes.hostname = host;
        expect((await get(`${probes.origin}/healthz`)).status, `${host}: liveness without credentials`).to.equal(200);
        const ready = await get(`${probes.origin}/readyz?verbose`);
        expect([ready.status, ready.body], `${host}: readiness`).to.deep.equal([200, '[+]informer-sync ok\n[+]leader-election ok\n[+]running ok\nreadyz check passed\n']);
        expect((await get(`${probes.origin}/metrics`)).status, 'no metrics on the probe port').to.equal(404);
      }
    });

    it('deletes a site: the finalizer unregisters it, then lets it go', async () => {
      await admin.delete(site('web'));
      await eventually(async () => statusOf(await rejectionOf(read('web'))) === 404, { message: 'web is gone' });
      expect((await core.readNamespacedConfigMap({ name: SITE_DIRECTORY, namespace })).data?.['web']).to.equal(undefined);
    });

    it('used every verb it was granted and nothing else (the audit log)', async () => {
      await stopOperators(); // releases the Lease: its last update
      const events = await audit.requests({ user: userOf(sa), since });
      const shipped = loadAllYaml(await readFile(deployFile('rbac.yaml'), 'utf8')).filter(Boolean) as KubernetesObject[];
      const result = compare(grantsTo(shipped, sa), events);
      console.log(formatAudit(`static-site-operator (cluster-wide), ${events.length} requests`, result, ADMISSION_ONLY('staticsites', 'sites.maestro.dev')).replace(/^/gm, '      '));
      expectExact(result, ADMISSION_ONLY('staticsites', 'sites.maestro.dev'));
      // What the redesign of the sample removed: no rights on Namespace objects at all.
      expect(result.grants.filter((g) => g.resource === 'namespaces')).to.deep.equal([]);
      expect(result.grants.filter((g) => g.verb === 'update' && !g.resource.includes('/') && g.resource !== 'leases'), 'no update on whole objects but the Lease').to.deep.equal([]);
    });
  });

  describe('a namespaced operator using every kind of declaration, with its generated Role', () => {
    const name = 'vault-operator';
    let ns: string;
    let other: string;
    let sa: { name: string; namespace: string };
    let kubeConfig: KubeConfig;
    let rbac: KubernetesObject[];
    let operator: Operator;
    let since: number;
    let scraperToken: string;
    const read = (n: string) => admin.read<Vault>({ apiVersion: 'audit.maestro.dev/v1', kind: 'Vault', metadata: { name: n, namespace: ns } });
    const waitReady = (n: string) => eventually(async () => {
      const v = await read(n);
      const ready = v.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' && v.status?.observedGeneration === v.metadata?.generation ? v : undefined;
    }, { message: `vault ${n} Ready for its generation` });
    const patchSpec = (n: string, spec: Partial<Vault['spec']>) =>
      admin.patch({ apiVersion: 'audit.maestro.dev/v1', kind: 'Vault', metadata: { name: n, namespace: ns }, spec } as Vault, undefined, undefined, 'test', undefined, PatchStrategy.MergePatch);

    before(async () => {
      [ns, other] = await Promise.all([plane.createNamespace('vaults'), plane.createNamespace('vaults-other')]);
      sa = { name, namespace: ns };
      rbac = generateRBAC(vaultComponents, { name, serviceAccount: sa, namespaces: [ns], leaderElection: { namespace: ns } });
      await createAll(plane.kubeConfig, rbac);
      kubeConfig = await serviceAccountKubeConfig(plane.kubeConfig, sa);
      await eventually(() => kubeConfig.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: ns }), { message: 'the generated Role takes effect' });
      scraperToken = await account(plane, ns, 'scraper');
      await plane.kubeConfig.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({ body: {
        metadata: { name: 'scraper-vault-metrics' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${name}-metrics-reader` },
        subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace: ns }],
      } });
      await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'keys' }, stringData: { alpha: '1', beta: '2' } } });
      // OwnerReferencesPermissionEnforcement resolves the owner's kind through a RESTMapper that
      // learns new CRDs on its 30 s resync; until then it refuses blockOwnerDeletion on Vaults.
      const asOperator = kubeConfig.makeApiClient(CoreV1Api);
      await eventually(() => asOperator.createNamespacedConfigMap({ namespace: ns, dryRun: 'All', body: { metadata: {
        name: 'probe', ownerReferences: [{ apiVersion: 'audit.maestro.dev/v1', kind: 'Vault', name: 'probe', uid: '0d6e5f1c-2b3a-4c5d-8e9f-a0b1c2d3e4f5', controller: true, blockOwnerDeletion: true }],
      } } }), { timeoutMs: 60_000, intervalMs: 1000, message: 'the API server maps the Vault kind for its owner-reference admission' });
      since = Date.now();
      operator = await startOperator(kubeConfig, {
        name, reconcilers: vaultComponents, namespaces: [ns], cacheSyncTimeoutMs: 30_000,
        leaderElection: { namespace: ns, ...fast }, server: { metricsPort: 0, probePort: 0, host: '127.0.0.1' },
      });
    });

    it('lives a whole life: create, update (a child deleted), a lost status race, a repeated failure, scrapes, delete', async () => {
      // Create: a ConfigMap (apply) with the key names of a Secret read through @Uses, and a Service.
      await admin.create(vault(ns, 'v1', { message: 'hello', secretName: 'keys', expose: true }));
      await waitReady('v1');
      expect((await core.readNamespacedConfigMap({ name: 'v1-config', namespace: ns })).data).to.deep.equal({ message: 'hello', keys: 'alpha,beta' });
      await core.readNamespacedService({ name: 'v1', namespace: ns });

      // Update: the Service goes (the declared delete), the ConfigMap follows the spec.
      await patchSpec('v1', { message: 'again', expose: false });
      await waitReady('v1');
      await eventually(async () => statusOf(await rejectionOf(core.readNamespacedService({ name: 'v1', namespace: ns }))) === 404, { message: 'the Service deleted' });
      expect((await core.readNamespacedConfigMap({ name: 'v1-config', namespace: ns })).data?.['message']).to.equal('again');

      // A status write that loses a race: a label lands while the slow reconcile runs.
      await admin.create(vault(ns, 'slow', { message: 'slow', delayMs: 1500 }));
      await eventually(async () => ((await read('slow')).metadata?.finalizers?.length ? true : undefined), { message: 'slow is being reconciled' });
      await admin.patch({ apiVersion: 'audit.maestro.dev/v1', kind: 'Vault', metadata: { name: 'slow', namespace: ns, labels: { touched: 'yes' } } } as unknown as Vault, undefined, undefined, 'test', undefined, PatchStrategy.MergePatch);
      await waitReady('slow');
      await eventually(async () => (await audit.requests({ user: userOf(sa), verb: 'get', resource: 'vaults', name: 'slow', since })).length > 0 || undefined, { message: 'slow re-read after the conflict' });

      // A failure that repeats: Ready=False and one Warning Event whose count grows.
      await admin.create(vault(ns, 'sealed', { message: 'x', fail: true }));
      await eventually(async () => (await core.listNamespacedEvent({ namespace: ns })).items
        .find((e) => e.involvedObject.name === 'sealed' && e.source?.component === name && (e.count ?? 0) > 1), { message: 'a repeated Warning Event' });

      // Scrapes: the operator reviews the scraper's token and its access.
      expect((await scrape(operator)).status).to.equal(401);
      await eventually(async () => ((await scrape(operator, scraperToken)).status === 200 || undefined), { message: 'the scraper gets metrics' });

      // Delete: the cleanup runs, the finalizer goes.
      await admin.delete(vault(ns, 'v1', { message: '' }));
      await eventually(async () => statusOf(await rejectionOf(read('v1'))) === 404, { message: 'v1 is gone' });
      expect(VaultCleanup.cleaned).to.include(`${ns}/v1`);
    });

    it('used every verb it was granted and nothing else (the audit log)', async () => {
      await stopOperators();
      const events = await audit.requests({ user: userOf(sa), since });
      const result = compare(grantsTo(rbac, sa), events);
      console.log(formatAudit(`${name} (namespace ${ns}), ${events.length} requests`, result, ADMISSION_ONLY('vaults', 'audit.maestro.dev')).replace(/^/gm, '      '));
      expectExact(result, ADMISSION_ONLY('vaults', 'audit.maestro.dev'));
      // Namespaced: only the metrics reviews (cluster-scoped kinds) come from a ClusterRole.
      expect([...new Set(result.grants.filter((g) => g.namespace === undefined).map((g) => `${g.resource}.${g.group}`))].sort())
        .to.deep.equal(['subjectaccessreviews.authorization.k8s.io', 'tokenreviews.authentication.k8s.io']);
    });

    it('is denied every granted verb outside its namespace, and cluster-wide', async () => {
      const authz = kubeConfig.makeApiClient(AuthorizationV1Api);
      const allowed = async (verb: string, group: string, resource: string, namespace: string) => {
        const [plural, subresource] = resource.split('/');
        const review = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, group, resource: plural, subresource, namespace } } } });
        return review.status?.allowed === true;
      };
      const inRole = grantsTo(rbac, sa).filter((g) => g.namespace === ns && !g.resourceName);
      expect(inRole.length).to.be.greaterThan(10);
      const outcomes: string[] = [];
      for (const g of inRole) {
        const where = { [ns]: await allowed(g.verb, g.group, g.resource, ns), [other]: await allowed(g.verb, g.group, g.resource, other), '(all namespaces)': await allowed(g.verb, g.group, g.resource, '') };
        outcomes.push(`${g.verb} ${g.resource}: ${Object.entries(where).filter(([, ok]) => ok).map(([n]) => n).join(',')}`);
      }
      expect(outcomes).to.deep.equal(inRole.map((g) => `${g.verb} ${g.resource}: ${ns}`));
      // And as real requests.
      const asOperator = kubeConfig.makeApiClient(CoreV1Api);
      for (const [what, call] of [
        ['list ConfigMaps in another namespace', () => asOperator.listNamespacedConfigMap({ namespace: other })],
        ['list ConfigMaps in every namespace', () => asOperator.listConfigMapForAllNamespaces()],
        ['read a Secret in another namespace', () => asOperator.readNamespacedSecret({ namespace: other, name: 'keys' })],
        ['list Secrets in its own namespace (it may only get them)', () => asOperator.listNamespacedSecret({ namespace: ns })],
        ['create an Event in another namespace', () => asOperator.createNamespacedEvent({ namespace: other, body: { metadata: { name: 'x' }, involvedObject: { name: 'x' } } })],
        ['read Namespaces', () => asOperator.readNamespace({ name: ns })],
      ] as const) {
        expect(statusOf(await rejectionOf(call())), what).to.equal(403);
      }
    });
  });
});
