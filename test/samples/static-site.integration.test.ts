// The static-site sample end to end: its generated deploy bundle, and the operator running
// with exactly the generated RBAC, as it would in a cluster.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { crdYAML, generateCRD, rbacYAML, webhookYAML } from '../../lib/generate/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { StaticSite } from '../../samples/static-site/site.js';
import { SITE_DIRECTORY, staticSiteComponents } from '../../samples/static-site/reconcilers.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { kubectl } from '../support/generate-kubectl.js';
import { startOperator, stopOperators } from '../support/operators.js';
import { rejectionOf, serviceAccountKubeConfig, statusOf } from '../support/service-account.js';
import { eventually } from '../support/wait.js';

const deployFile = (name: string) => fileURLToPath(new URL(`../../../samples/static-site/deploy/${name}`, import.meta.url));
const rbacOptions = {
  name: 'static-site-operator',
  serviceAccount: { name: 'static-site-operator', namespace: 'static-site-system' },
  leaderElection: { namespace: 'static-site-system' },
};

describe('samples/static-site', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  before(async () => { plane = await sharedControlPlane(); });
  after(() => stopOperators());

  it('ships deploy YAML that is exactly what the generators make from its classes (no drift)', async () => {
    const webhook = { service: { name: 'static-site-operator-webhook', namespace: 'static-site-system' } };
    expect(await readFile(deployFile('crd.yaml'), 'utf8')).to.equal(crdYAML([generateCRD(StaticSite, { webhook })]));
    expect(await readFile(deployFile('webhooks.yaml'), 'utf8')).to.equal(webhookYAML([StaticSite], {
      name: 'static-site-operator', client: webhook, failurePolicy: 'Fail', service: { namespace: 'static-site-system', serviceAccount: 'static-site-operator' },
    }));
    expect(await readFile(deployFile('rbac.yaml'), 'utf8')).to.equal(rbacYAML(staticSiteComponents, rbacOptions));
  });

  it('has a deploy bundle the API server accepts with strict validation', async () => {
    for (const file of ['crd.yaml', 'operator.yaml', 'rbac.yaml']) {
      const result = await kubectl(plane, ['apply', '--server-side', '--validate=strict', '--field-manager=maestro-test', '-f', deployFile(file)]);
      expect(result.code, `${file}: ${result.stderr}`).to.equal(0);
    }
    // Checked, not kept: with failurePolicy Fail, webhooks no operator serves here would refuse every StaticSite.
    const webhooks = await kubectl(plane, ['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager=maestro-test', '-f', deployFile('webhooks.yaml')]);
    expect(webhooks.code, `webhooks.yaml: ${webhooks.stderr}`).to.equal(0);
    const deployment = await plane.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'static-site-operator', namespace: 'static-site-system' });
    expect(deployment.spec?.template.spec?.serviceAccountName).to.equal('static-site-operator');
  });

  it('converges sites with exactly the generated RBAC, cleans up on delete, and is denied anything else', async () => {
    // The bundle (CRD, ServiceAccount, roles) was applied by the test above.
    const kubeConfig = await serviceAccountKubeConfig(plane.kubeConfig, rbacOptions.serviceAccount);
    await startOperator(kubeConfig, { name: 'static-site-operator', reconcilers: staticSiteComponents, leaderElection: { namespace: 'static-site-system', leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 } });
    const namespace = await plane.createNamespace('sites');
    const admin = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
    const core = plane.kubeConfig.makeApiClient(CoreV1Api);
    const site = (name: string, image: string) => ({
      apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name, namespace },
      spec: { image, replicas: 2, content: `<h1>${name}</h1>` },
    });
    const readyOf = async (name: string) =>
      (await admin.read<StaticSite>(site(name, ''))).status?.conditions?.find((c) => c.type === 'Ready');
    await admin.create(site('web', 'nginx:1.27'));
    await admin.create(site('unpinned', 'nginx'));
    await admin.create(site('foreign', 'registry.evil.example/miner:1.0'));

    const ready = await eventually(async () => ((await readyOf('web'))?.status === 'True' ? readyOf('web') : undefined), { message: 'web Ready' });
    expect(ready?.message).to.equal(`serving http://web.${namespace}.svc`);
    const content = await core.readNamespacedConfigMap({ name: 'web-content', namespace });
    expect(content.data?.['index.html']).to.equal('<h1>web</h1>');
    const deployment = await plane.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'web', namespace });
    expect(deployment.spec?.replicas).to.equal(2);
    expect(deployment.metadata?.ownerReferences?.[0]).to.include({ kind: 'StaticSite', name: 'web', controller: true });
    await core.readNamespacedService({ name: 'web', namespace });
    const directory = await core.readNamespacedConfigMap({ name: SITE_DIRECTORY, namespace });
    expect(directory.data).to.deep.equal({ web: `http://web.${namespace}.svc` });
    expect(directory.metadata?.ownerReferences, 'the directory is shared: no site owns it').to.equal(undefined);
    const invalid = await eventually(async () => ((await readyOf('unpinned'))?.reason === 'InvalidSpec' ? readyOf('unpinned') : undefined), { message: 'unpinned InvalidSpec' });
    expect(invalid?.message).to.equal('spec.image (isPinnedImage): image must pin a tag other than latest, or a digest');
    // The image allow-list: a foreign image is refused before any reconciler creates a workload.
    const foreign = await eventually(async () => ((await readyOf('foreign'))?.reason === 'InvalidSpec' ? readyOf('foreign') : undefined), { message: 'foreign InvalidSpec' });
    expect(foreign?.message).to.equal('spec.image (isAllowedImageSource): image must come from an allowed registry or repository (docker.io/library)');
    expect(statusOf(await rejectionOf(plane.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'foreign', namespace })))).to.equal(404);

    await admin.delete(site('web', ''));
    await eventually(async () => (await core.readNamespacedConfigMap({ name: SITE_DIRECTORY, namespace })).data?.['web'] === undefined, { message: 'registration removed by the finalizer' });
    await eventually(async () => statusOf(await rejectionOf(admin.read(site('web', '')))) === 404, { message: 'site gone' });

    const asOperator = kubeConfig.makeApiClient(CoreV1Api);
    expect(statusOf(await rejectionOf(asOperator.listNamespacedSecret({ namespace })))).to.equal(403);
    expect(statusOf(await rejectionOf(asOperator.createNamespacedPod({ namespace, body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } } })))).to.equal(403);
    expect(statusOf(await rejectionOf(asOperator.deleteNamespace({ name: namespace })))).to.equal(403);
    // No rights on Namespace objects at all: their Pod Security labels are out of its reach.
    expect(statusOf(await rejectionOf(asOperator.patchNamespace({ name: namespace, body: [{ op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'privileged' }] })))).to.equal(403);
    expect(statusOf(await rejectionOf(asOperator.readNamespace({ name: namespace })))).to.equal(403);
  });
});
