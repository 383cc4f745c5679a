// The static-site sample's related watch on a real API server: sites name a shared theme
// ConfigMap; creating, editing or deleting it re-renders exactly the sites that name it.
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/testing/index.js';
import { StaticSite } from '../../samples/static-site/site.js';
import { THEME_KEY, staticSiteComponents } from '../../samples/static-site/reconcilers.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { startOperator, stopOperators } from '../support/operators.js';
import { eventually } from '../support/wait.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('samples/static-site: a shared theme ConfigMap, watched', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  before(async () => {
    plane = await sharedControlPlane();
    // The CRD as shipped (deploy/crd.yaml), so the schema of spec.themeRef is tested too.
    await plane.installCRDs([fileURLToPath(new URL('../../../samples/static-site/deploy/crd.yaml', import.meta.url))]);
  });
  after(() => stopOperators());

  it('renders the theme into the sites that name it, follows its edits and its deletion, and leaves the other sites alone', async () => {
    const namespace = await plane.createNamespace('themes');
    const admin = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
    const core = plane.kubeConfig.makeApiClient(CoreV1Api);
    const site = (name: string, themeRef?: string) => ({
      apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name, namespace },
      spec: { image: 'nginx:1.27', replicas: 1, pages: { 'index.html': `<h1>${name}</h1>` }, ...(themeRef ? { themeRef } : {}) },
    });
    const conditionOf = async (name: string, type: string) => (await admin.read<StaticSite>(site(name))).status?.conditions?.find((c) => c.type === type);
    const page = async (name: string) => (await core.readNamespacedConfigMap({ name: `${name}-content`, namespace })).data?.['index.html'];
    await startOperator(plane.kubeConfig, { name: 'static-site-operator', reconcilers: staticSiteComponents, namespaces: [namespace] });

    for (const s of [site('blue-a', 'blue'), site('blue-b', 'blue'), site('red', 'red'), site('plain')]) await admin.create(s);
    await eventually(async () => (await conditionOf('blue-a', 'Themed'))?.reason === 'ThemeNotFound' && (await conditionOf('blue-b', 'Themed'))?.reason === 'ThemeNotFound', { message: 'blue sites without their theme' });
    expect(await page('blue-a')).to.equal('<h1>blue-a</h1>');
    await eventually(async () => (await conditionOf('plain', 'Ready'))?.status === 'True', { message: 'plain Ready' });
    const untouched = async () => Promise.all(['red', 'plain'].map(async (n) => (await core.readNamespacedConfigMap({ name: `${n}-content`, namespace })).metadata?.resourceVersion));
    const othersBefore = await untouched();

    // The theme appears: both blue sites render it (the watch maps it through the themeRef index).
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'blue' }, data: { [THEME_KEY]: 'h1 { color: blue }' } } });
    await eventually(async () => (await page('blue-a'))?.includes('color: blue') && (await page('blue-b'))?.includes('color: blue'), { message: 'blue theme rendered' });
    expect(await conditionOf('blue-a', 'Themed')).to.include({ status: 'True', reason: 'ThemeApplied' });

    // An edit re-renders them.
    await core.patchNamespacedConfigMap({ name: 'blue', namespace, body: { data: { [THEME_KEY]: 'h1 { color: navy }' } } }, mergePatch);
    await eventually(async () => (await page('blue-a'))?.includes('navy') && (await page('blue-b'))?.includes('navy'), { message: 'blue theme edit rendered' });

    // Deleted, they fall back to the plain page and say so.
    await core.deleteNamespacedConfigMap({ name: 'blue', namespace });
    await eventually(async () => (await conditionOf('blue-a', 'Themed'))?.reason === 'ThemeNotFound' && (await page('blue-b')) === '<h1>blue-b</h1>', { message: 'blue theme gone' });
    expect(await untouched(), 'the red and plain sites were not re-rendered').to.deep.equal(othersBefore);
  });
});
