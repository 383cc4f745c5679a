// The static-site sample's theme (spec.themeRef): one reconcile at a time on the fake
// client, through the operator's own pipeline (reconcileOnce).
import 'reflect-metadata';
import { expect } from 'chai';
import { V1ConfigMap, V1Deployment, V1Namespace } from '@kubernetes/client-node';
import { FakeClient, reconcileOnce } from '../../lib/testing/index.js';
import { StaticSite } from '../../samples/static-site/site.js';
import { THEME_KEY, renderPage, staticSiteComponents } from '../../samples/static-site/reconcilers.js';

const NS = 'sites';
const site = (name: string, themeRef?: string): StaticSite => ({
  apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name, namespace: NS },
  spec: { image: 'nginx:1.27', replicas: 1, pages: { 'index.html': `<h1>${name}</h1>` }, ...(themeRef ? { themeRef } : {}) },
});
const theme = (name: string, css: string | undefined): V1ConfigMap =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: css === undefined ? { other: 'x' } : { [THEME_KEY]: css } });

describe('samples/static-site: themes (spec.themeRef)', () => {
  const run = (client: FakeClient, s: StaticSite) => reconcileOnce(StaticSite, s, { client, components: staticSiteComponents });
  const page = async (client: FakeClient, name: string) => (await client.get(V1ConfigMap, { namespace: NS, name: `${name}-content` })).data?.['index.html'];
  const hash = async (client: FakeClient, name: string) =>
    (await client.get(V1Deployment, { namespace: NS, name })).spec?.template.metadata?.annotations?.['sites.maestro.dev/content-hash'];
  const namespace = (): V1Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });

  it('merges the named theme\u2019s stylesheet into the page, reports Themed=True, and rolls the pods when the theme changes', async () => {
    const client = new FakeClient({ objects: [namespace(), theme('dark', 'body { background: black }')] });
    const first = await run(client, site('web', 'dark'));
    expect(first.error).to.equal(undefined);
    expect(first.conditions.find((c) => c.type === 'Themed')).to.include({ status: 'True', reason: 'ThemeApplied', message: 'theme dark' });
    expect(await page(client, 'web')).to.equal('<style>\nbody { background: black }\n</style>\n<h1>web</h1>');
    const before = await hash(client, 'web');

    const dark = await client.get(V1ConfigMap, { namespace: NS, name: 'dark' });
    await client.update({ ...dark, data: { [THEME_KEY]: 'body { background: navy }' } });
    await run(client, client.objects(StaticSite)[0]!);
    expect(await page(client, 'web')).to.contain('navy');
    expect(await hash(client, 'web'), 'a new page rolls the pods').not.to.equal(before);
  });

  it('serves the site unthemed with Themed=False when the theme is missing or has no stylesheet; Ready stays True', async () => {
    const client = new FakeClient({ objects: [namespace(), theme('empty', undefined)] });
    const missing = await run(client, site('a', 'nope'));
    expect(missing.conditions.find((c) => c.type === 'Themed')).to.include({ status: 'False', reason: 'ThemeNotFound' });
    expect(missing.conditions.find((c) => c.type === 'Ready')).to.include({ status: 'True' });
    expect(await page(client, 'a')).to.equal('<h1>a</h1>');
    const invalid = await run(client, site('b', 'empty'));
    expect(invalid.conditions.find((c) => c.type === 'Themed')).to.include({ status: 'False', reason: 'ThemeInvalid', message: `ConfigMap empty has no ${THEME_KEY}` });
  });

  it('drops the Themed condition when the site stops naming a theme', async () => {
    const client = new FakeClient({ objects: [namespace(), theme('dark', 'b {}')] });
    await run(client, site('web', 'dark'));
    const stored = client.objects(StaticSite)[0]!;
    await client.update({ ...stored, spec: { ...stored.spec, themeRef: undefined } });
    const after = await run(client, client.objects(StaticSite)[0]!);
    expect(after.conditions.map((c) => c.type)).not.to.include('Themed');
    expect(await page(client, 'web')).to.equal('<h1>web</h1>');
  });

  it('renders without a theme as the content itself', () => {
    expect(renderPage('<p>x</p>', { css: '' })).to.equal('<p>x</p>');
  });
});
