// Admission and conversion webhooks served by the operator and called by the real
// kube-apiserver (its own control plane: the webhook configurations must not reach other
// tests' objects). The static-site sample: v1 (hub, stored) and v1alpha1 with conversion.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import {
  AdmissionregistrationV1Api, ApiextensionsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubernetesObject,
} from '@kubernetes/client-node';
import { buildSpecs } from '../../lib/declare/index.js';
import { crdWireForm, generateCRD, generateWebhookConfigurations } from '../../lib/generate/index.js';
import { installWebhooks, startControlPlane, type ControlPlane, type InstalledWebhooks } from '../../lib/testing/index.js';
import { CONVERSION_DATA_ANNOTATION } from '../../lib/webhook/index.js';
import { staticSiteComponents } from '../../samples/static-site/reconcilers.js';
import { StaticSite } from '../../samples/static-site/site.js';
import { prepareControlPlaneAssets } from '../support/control-plane.js';
import { kubectl } from '../support/generate-kubectl.js';
import { startOperator, stopOperators } from '../support/operators.js';
import { serviceAccountKubeConfig } from '../support/service-account.js';
import { eventually } from '../support/wait.js';

const GROUP = 'sites.maestro.dev';
type Site = KubernetesObject & { metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec: Record<string, unknown>; status?: { conditions?: Array<{ type: string; reason: string; message: string; status: string }> } };

const sampleFile = (name: string) => fileURLToPath(new URL(`../../../samples/static-site/${name}`, import.meta.url));
const UNPINNED = 'spec.image (isPinnedImage): image must pin a tag other than latest, or a digest';

describe('webhooks: the API server calls the operator (static-site v1 + v1alpha1)', function () {
  this.timeout(180_000);
  let plane: ControlPlane;
  let installed: InstalledWebhooks;
  let namespace: string;
  let api: KubernetesObjectApi;
  const spec = buildSpecs({ components: staticSiteComponents });

  const site = (version: 'v1' | 'v1alpha1', name: string, body: Record<string, unknown>): Site => ({
    apiVersion: `${GROUP}/${version}`, kind: 'StaticSite', metadata: { name, namespace }, spec: body,
  });
  const read = (version: 'v1' | 'v1alpha1', name: string) => api.read<Site>(site(version, name, {}));
  const apply = (object: unknown) => kubectl(plane, ['apply', '-f', '-'], JSON.stringify(object));

  before(async () => {
    await prepareControlPlaneAssets();
    plane = await startControlPlane({ crds: [generateCRD(StaticSite)] });
    api = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
    namespace = await plane.createNamespace('sites');
    installed = await installWebhooks(plane.kubeConfig, { webhooks: spec.webhooks, name: 'static-site-operator' });
    await startOperator(plane.kubeConfig, { name: 'static-site-operator', reconcilers: staticSiteComponents, webhooks: installed.serverOptions });
  });
  after(async () => {
    await stopOperators();
    await installed?.uninstall().catch(() => undefined);
    await plane?.stop();
  });

  it('generates one CRD with both versions, v1 stored, conversion by webhook', () => {
    const crd = crdWireForm(generateCRD(StaticSite)) as { spec: { versions: Array<{ name: string; storage: boolean; deprecated?: boolean }>; conversion: { strategy: string } } };
    expect(crd.spec.versions.map((v) => [v.name, v.storage, v.deprecated ?? false])).to.deep.equal([['v1', true, false], ['v1alpha1', false, true]]);
    expect(crd.spec.conversion.strategy).to.equal('Webhook');
  });

  it('refuses at kubectl apply what the InvalidSpec condition would say, and admits a valid object', async () => {
    let attempt = 0;
    const refused = await eventually(async () => {
      // A new name each time: were an early attempt admitted (the configuration not yet in effect), its update would not be refused.
      const result = await apply(site('v1', `unpinned-${attempt++}`, { image: 'nginx', pages: { 'index.html': 'x' } }));
      return result.code !== 0 && result.stderr.includes('denied the request') ? result : undefined;
    }, { message: 'the validating webhook refuses an unpinned image', timeoutMs: 60_000 });
    expect(refused.stderr).to.include(`admission webhook "vstaticsite.${GROUP}" denied the request: ${UNPINNED}`);
    // A rule across fields only the class knows (page names are ConfigMap keys).
    const badName = await apply(site('v1', 'bad-page', { image: 'nginx:1.27', pages: { 'a/b.html': 'x' } }));
    expect(badName.code).to.not.equal(0);
    expect(badName.stderr).to.include('spec.pages (safePageNames): page names must be file names');
    const ok = await apply(site('v1', 'web', { image: 'nginx:1.27', pages: { 'index.html': '<h1>web</h1>' } }));
    expect(ok.code, ok.stderr).to.equal(0);
    expect((await read('v1', 'web')).spec.image).to.equal('nginx:1.27');
  });

  it('applies defaults to objects created without the field', async () => {
    await api.create(site('v1', 'defaulted', { image: 'nginx:1.27', pages: { 'index.html': 'd' } }));
    expect((await read('v1', 'defaulted')).spec.replicas).to.equal(1);
    await api.create(site('v1alpha1', 'defaulted-old', { image: 'nginx:1.27', content: 'd' }));
    expect((await read('v1alpha1', 'defaulted-old')).spec.replicas).to.equal(1);
  });

  it('warns about deprecated fields', async () => {
    const result = await apply(site('v1', 'legacy', { image: 'nginx:1.27', replicas: 1, content: '<p>old</p>' }));
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.include('Warning: spec.content is deprecated');
  });

  it('converts: created as v1alpha1, read as v1, updated as v1, read back as v1alpha1, round trip without loss', async () => {
    await api.create(site('v1alpha1', 'converted', { image: 'nginx:1.27', replicas: 2, content: '<h1>home</h1>' }));
    const asV1 = await read('v1', 'converted');
    expect(asV1.apiVersion).to.equal(`${GROUP}/v1`);
    expect(asV1.spec).to.deep.include({ image: 'nginx:1.27', replicas: 2, pages: { 'index.html': '<h1>home</h1>' } });

    // A page v1alpha1 has no field for.
    await api.patch<Site>(site('v1', 'converted', { pages: { 'index.html': '<h1>home</h1>', 'about.html': '<p>about</p>' } }),
      undefined, undefined, 'test', undefined, PatchStrategy.MergePatch);
    const asOld = await read('v1alpha1', 'converted');
    expect(asOld.spec).to.deep.equal({ image: 'nginx:1.27', replicas: 2, content: '<h1>home</h1>' });
    expect(asOld.metadata?.annotations?.[CONVERSION_DATA_ANNOTATION]).to.be.a('string');

    // Written back through v1alpha1 (an old client reads, changes the replicas, replaces): the page survives.
    // The operator writes the object too (finalizer, status): read again on a conflict.
    await eventually(async () => {
      const current = await read('v1alpha1', 'converted');
      return api.replace<Site>({ ...current, spec: { ...current.spec, replicas: 3 } }).then(() => true, (err: unknown) => {
        if ((err as { code?: number }).code === 409) return false;
        throw err;
      });
    }, { message: 'replaced as v1alpha1' });
    const again = await read('v1', 'converted');
    expect(again.spec).to.deep.equal({ image: 'nginx:1.27', replicas: 3, pages: { 'index.html': '<h1>home</h1>', 'about.html': '<p>about</p>' } });
    expect(again.metadata?.annotations?.[CONVERSION_DATA_ANNOTATION]).to.equal(undefined);

    // kubectl knows both versions.
    for (const version of ['v1', 'v1alpha1']) {
      const got = await kubectl(plane, ['get', `staticsites.${version}.${GROUP}`, 'converted', '-n', namespace, '-o', 'json']);
      expect(got.code, got.stderr).to.equal(0);
      expect((JSON.parse(got.stdout) as Site).apiVersion).to.equal(`${GROUP}/${version}`);
    }
  });

  it('reconciles objects created in either version (the operator reads the stored v1)', async () => {
    const core = plane.kubeConfig.makeApiClient(CoreV1Api);
    const content = await eventually(async () => core.readNamespacedConfigMap({ name: 'converted-content', namespace }).catch(() => undefined), { message: 'converted-content ConfigMap' });
    expect(content.data).to.deep.equal({ 'index.html': '<h1>home</h1>', 'about.html': '<p>about</p>' });
  });

  it('with the webhook down: Fail refuses with a clear message; Ignore admits and the reconcile-time check still catches it', async () => {
    await stopOperators();
    const failed = await apply(site('v1', 'while-down', { image: 'nginx:1.27', pages: { 'index.html': 'x' } }));
    expect(failed.code).to.not.equal(0);
    expect(failed.stderr).to.match(/failed calling webhook "[mv]staticsite\.sites\.maestro\.dev"/);

    await installed.uninstall();
    installed = await installWebhooks(plane.kubeConfig, { webhooks: spec.webhooks, name: 'static-site-operator', failurePolicy: 'Ignore', port: installed.port });
    const admitted = await eventually(async () => {
      const result = await apply(site('v1', 'unchecked', { image: 'nginx', pages: { 'index.html': 'x' } }));
      return result.code === 0 ? result : undefined;
    }, { message: 'admitted with failurePolicy Ignore', timeoutMs: 60_000 });
    expect(admitted.code).to.equal(0);
    await startOperator(plane.kubeConfig, { name: 'static-site-operator', reconcilers: staticSiteComponents, webhooks: installed.serverOptions });
    const condition = await eventually(async () => (await read('v1', 'unchecked')).status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'InvalidSpec'), { message: 'InvalidSpec' });
    expect(condition.message).to.equal(UNPINNED);
  });

  it('without a mounted certificate: keeps its own CA in a Secret and injects the CA bundle into its configurations and the CRD', async () => {
    await stopOperators();
    await installed.uninstall();
    const webhookNamespace = await plane.createNamespace('webhook');
    const service = { name: 'injected-webhook', namespace: webhookNamespace };
    // Configurations as generated for a cluster (calling the Service), matching no object here.
    const admission = plane.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    const [validating, mutating] = generateWebhookConfigurations(spec.webhooks, {
      name: 'injected', client: { service }, objectSelector: { matchLabels: { 'maestro.dev/never': 'true' } },
    });
    await admission.createValidatingWebhookConfiguration({ body: validating! });
    await admission.createMutatingWebhookConfiguration({ body: mutating! });
    const extensions = plane.kubeConfig.makeApiClient(ApiextensionsV1Api);
    await extensions.patchCustomResourceDefinition({
      name: `staticsites.${GROUP}`,
      body: { spec: { conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: null, service: { ...service, path: '/convert', port: 443 } } } } } },
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));

    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
    await startOperator(plane.kubeConfig, { name: 'injected', reconcilers: staticSiteComponents, logger, webhooks: { port: 0, host: '127.0.0.1', service } });
    const secret = await plane.kubeConfig.makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'injected-webhook-cert', namespace: webhookNamespace });
    const ca = Buffer.from(secret.data!['ca.crt']!, 'base64').toString();
    expect(ca).to.match(/^-----BEGIN CERTIFICATE-----/);
    const bundle = Buffer.from(ca).toString('base64');
    const v = await admission.readValidatingWebhookConfiguration({ name: 'injected-validating' });
    const m = await admission.readMutatingWebhookConfiguration({ name: 'injected-mutating' });
    const crd = await extensions.readCustomResourceDefinition({ name: `staticsites.${GROUP}` });
    expect(v.webhooks?.[0]?.clientConfig.caBundle).to.equal(bundle);
    expect(m.webhooks?.[0]?.clientConfig.caBundle).to.equal(bundle);
    expect(crd.spec.conversion?.webhook?.clientConfig?.caBundle).to.equal(bundle);
    // The serving certificate is for the Service's names, signed by that CA.
    const serving = Buffer.from(secret.data!['tls.crt']!, 'base64').toString();
    const cert = new X509Certificate(serving);
    expect(cert.checkIssued(new X509Certificate(ca))).to.equal(true);
    expect(cert.subjectAltName).to.include(`DNS:injected-webhook.${webhookNamespace}.svc`);
    expect(lines.filter((l) => typeof l['calls'] === 'string'), 'no configuration calls another Service').to.deep.equal([]);
  });

  it("runs as the deploy bundle's service account, with only rbac.yaml and webhooks.yaml: creates its CA Secret, injects the bundles, reuses them on restart", async () => {
    await stopOperators();
    const system = 'static-site-system';
    await plane.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: system } } });
    // The bundle as written (the CRD's conversion calls the bundle's Service again).
    for (const file of ['crd.yaml', 'rbac.yaml', 'webhooks.yaml']) {
      const applied = await kubectl(plane, ['apply', '--server-side', '--force-conflicts', '--field-manager=maestro-test', '-f', sampleFile(`deploy/${file}`)]);
      expect(applied.code, `${file}: ${applied.stderr}`).to.equal(0);
    }
    // As in the pod: the service account's token, its namespace as the context's (no POD_NAMESPACE here).
    expect(process.env['POD_NAMESPACE']).to.equal(undefined);
    const asOperator = await serviceAccountKubeConfig(plane.kubeConfig, { name: 'static-site-operator', namespace: system });
    const options = {
      name: 'static-site-operator', reconcilers: staticSiteComponents, leaderElection: true,
      server: { metricsPort: 0, probePort: 0, host: '127.0.0.1' }, webhooks: { port: 0, host: '127.0.0.1' },
    };
    await startOperator(asOperator, options);

    const core = plane.kubeConfig.makeApiClient(CoreV1Api);
    const admission = plane.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    const extensions = plane.kubeConfig.makeApiClient(ApiextensionsV1Api);
    const secret = await core.readNamespacedSecret({ name: 'static-site-operator-webhook-cert', namespace: system });
    const bundle = secret.data!['ca.crt']!;
    const injected = async () => [
      (await admission.readValidatingWebhookConfiguration({ name: 'static-site-operator-validating' })).webhooks?.[0]?.clientConfig.caBundle,
      (await admission.readMutatingWebhookConfiguration({ name: 'static-site-operator-mutating' })).webhooks?.[0]?.clientConfig.caBundle,
      (await extensions.readCustomResourceDefinition({ name: `staticsites.${GROUP}` })).spec.conversion?.webhook?.clientConfig?.caBundle,
    ];
    // Patched during start (a denied patch is logged and retried later, so this is what would fail without the grants).
    expect(await injected(), 'CA bundle in the two configurations and the CRD').to.deep.equal([bundle, bundle, bundle]);
    const serving = new X509Certificate(Buffer.from(secret.data!['tls.crt']!, 'base64').toString());
    expect(serving.subjectAltName).to.include(`DNS:static-site-operator-webhook.${system}.svc`);

    // A restart (a second replica, a new pod) reads the Secret it may only get by name, and keeps the CA.
    await stopOperators();
    await startOperator(asOperator, options);
    const again = await core.readNamespacedSecret({ name: 'static-site-operator-webhook-cert', namespace: system });
    expect(again.data!['ca.crt']).to.equal(bundle);
    expect(again.metadata?.resourceVersion, 'not rewritten').to.equal(secret.metadata?.resourceVersion);
    expect(await injected()).to.deep.equal([bundle, bundle, bundle]);
  });

  it('out of the cluster without POD_NAMESPACE: says which Service the configurations call and which it serves, once, and leaves their CA bundles alone', async () => {
    await stopOperators();
    // The deploy bundle's configurations and CRD, which call static-site-system/static-site-operator-webhook,
    // without a CA bundle: whatever configurations of those names the tests before left (url-based ones
    // from installWebhooks, the deploy bundle's with a CA) are removed, and the CRD's conversion reset.
    await installed.uninstall();
    await plane.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'static-site-system' } } }).catch(() => undefined);
    for (const file of ['crd.yaml', 'webhooks.yaml']) {
      const applied = await kubectl(plane, ['apply', '--server-side', '--force-conflicts', '--field-manager=maestro-test', '-f', sampleFile(`deploy/${file}`)]);
      expect(applied.code, `${file}: ${applied.stderr}`).to.equal(0);
    }
    const extensions = plane.kubeConfig.makeApiClient(ApiextensionsV1Api);
    const admission = plane.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    const bundles = async () => [
      (await admission.readValidatingWebhookConfiguration({ name: 'static-site-operator-validating' })).webhooks?.[0]?.clientConfig.caBundle,
      (await admission.readMutatingWebhookConfiguration({ name: 'static-site-operator-mutating' })).webhooks?.[0]?.clientConfig.caBundle,
      (await extensions.readCustomResourceDefinition({ name: `staticsites.${GROUP}` })).spec.conversion?.webhook?.clientConfig?.caBundle,
    ];
    expect(await bundles(), 'no CA bundle yet').to.deep.equal([undefined, undefined, undefined]);
    // Run as a developer does: an admin kubeconfig, no POD_NAMESPACE.
    expect(process.env['POD_NAMESPACE']).to.equal(undefined);
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
    const operator = await startOperator(plane.kubeConfig, {
      name: 'static-site-operator', reconcilers: staticSiteComponents, logger, webhooks: { port: 0, host: '127.0.0.1' },
    });
    const said = () => lines.filter((l) => typeof l['calls'] === 'string');
    expect(said().map((l) => `${String(l['kind'])} ${String(l['name'])}`).sort()).to.deep.equal([
      `CustomResourceDefinition staticsites.${GROUP}`,
      'MutatingWebhookConfiguration static-site-operator-mutating',
      'ValidatingWebhookConfiguration static-site-operator-validating',
    ]);
    for (const line of said()) {
      expect(line['level'], 'warn').to.equal(40);
      expect(line['calls']).to.equal('static-site-system/static-site-operator-webhook');
      expect(line['serves']).to.equal('default/static-site-operator-webhook');
      expect(String(line['msg'])).to.include('set POD_NAMESPACE=static-site-system');
    }
    const webhooks = operator.manager.webhooks;
    if (!webhooks) throw new Error('the operator serves no webhooks');
    // The periodic check finds the same: nothing new to say.
    await webhooks.refresh();
    expect(said()).to.have.length(3);
    // A configuration pointed at yet another Service is said again.
    await admission.patchValidatingWebhookConfiguration({
      name: 'static-site-operator-validating',
      body: [{ op: 'replace', path: '/webhooks/0/clientConfig/service/name', value: 'other-webhook' }],
    }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await webhooks.refresh();
    expect(said()).to.have.length(4);
    expect(said()[3]!['calls']).to.equal('static-site-system/other-webhook');
    expect(String(said()[3]!['msg'])).to.include(`set webhooks.service to { namespace: 'static-site-system', name: 'other-webhook' }`);
    expect(lines.filter((l) => String(l['msg']).startsWith('checking the webhook certificate and CA bundles failed')), 'every check ran').to.deep.equal([]);
    expect(await bundles(), 'not injected with the CA of this process').to.deep.equal([undefined, undefined, undefined]);
  });
});
