// `npm run demo`: the whole life of a StaticSite, on a local control plane with simulated
// nodes (or on the cluster of KUBECONFIG): create (one rejected by the CRD schema, one
// failing the operator's policy: refused by its admission webhook on the local plane,
// Ready=False InvalidSpec on a cluster that cannot call the webhook), converge until the
// Pods run, scale, self-heal, restyle through a shared theme ConfigMap (a watched related
// object), delete.
//   node dist/samples/static-site/demo.js [--keep]
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { KubeConfig, V1ConfigMap, V1CustomResourceDefinition, V1Deployment, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import { createOperator, isNotFound, type Client, type Condition, type Operator } from 'maestro-operator';
import { generateCRD, webhookSpecsOf } from 'maestro-operator/generate';
import { ApiTransport, KubeClient, Registry } from 'maestro-operator/runtime';
import { controlPlaneAssets, installWebhooks, startControlPlane, type ControlPlane, type InstalledWebhooks } from 'maestro-operator/testing';
import { StaticSite } from './site.js';
import { SITE_DIRECTORY, THEME_KEY, staticSiteComponents } from './reconcilers.js';

/** The conversion webhook's Service, as in deploy/crd.yaml (the same CRD whichever installs it first). */
const WEBHOOK = { service: { name: 'static-site-operator-webhook', namespace: 'static-site-system' } };

const { values } = parseArgs({ options: { keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log('Usage: npm run demo [-- --keep]\n  --keep  leave the control plane and operator running for kubectl (Ctrl-C to stop)');
  process.exit(0);
}

/** The demo's own client (outside any reconcile): the one place it is built. */
function standaloneClient(kubeConfig: KubeConfig): Client {
  return new KubeClient({ transport: ApiTransport.create(kubeConfig), resources: Registry.default.resources, fieldManager: 'maestro-demo' });
}

let started = performance.now();
const since = (): string => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s`;
const step = (line: string): void => console.log(`${since()}  ${line}`);
const heading = (line: string): void => console.log(`\n${line}`);
/** Re-raises what a `.catch` did not expect (typed `never`, so the handler keeps its type). */
const rethrow = (err: unknown): never => { throw err; };
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
/** What an admission webhook said, without the API server's preamble. */
const webhookMessage = (err: unknown): string => messageOf(err).replace(/^.*denied the request: /s, '');

let plane: ControlPlane | undefined;
let operator: Operator | undefined;
let webhooks: InstalledWebhooks | undefined;
/** Undoes what the demo created in a cluster of KUBECONFIG (a local plane just goes away). */
let removeDemoObjects: (() => Promise<void>) | undefined;
async function cleanup(): Promise<void> {
  if (!plane) await removeDemoObjects?.().catch((err: unknown) => console.error(`cleanup: ${messageOf(err)}`));
  await operator?.stop();
  await webhooks?.uninstall().catch(() => undefined); // its certificate directory
  await plane?.stop();
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  console.log('Maestro demo: the life of a StaticSite (samples/static-site)\n');
  let kubeConfig: KubeConfig;
  let kubectl = 'kubectl';
  if (process.env.KUBECONFIG) {
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
    step(`using the cluster of KUBECONFIG (${kubeConfig.getCurrentCluster()?.server})`);
  } else {
    // Found in the cache, or built once per machine (with its own progress display).
    const assets = await controlPlaneAssets({ binaries: ['kube-controller-manager', 'kube-scheduler', 'kwok', ...(values.keep ? ['kubectl' as const] : [])] });
    kubectl = assets.kubectl ?? kubectl;
    started = performance.now(); // the demo's own time, after any one-time build
    step('starting a local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, 2 nodes (kwok)');
    // The CRD before the controller manager starts, so that its garbage collector knows the kind at once.
    plane = await startControlPlane({ nodes: 2, assets, crds: [generateCRD(StaticSite, { webhook: WEBHOOK })], log: (line) => { if (line.startsWith('control plane')) step(line); } });
    kubeConfig = plane.kubeConfig;
  }

  const client = standaloneClient(kubeConfig);
  const crd = generateCRD(StaticSite, { webhook: WEBHOOK });
  await client.apply(crd);
  await until('the CRD to be established', async () => {
    const current = await client.get(V1CustomResourceDefinition, { name: crd.metadata!.name! });
    return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
  step(`installed CRD ${crd.metadata!.name} (generated from the StaticSite class)`);

  const namespace = `static-site-demo-${Math.random().toString(36).slice(2, 7)}`;
  await client.create<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  if (plane) {
    // The local API server calls the operator's webhooks on loopback, with a CA made for it
    // (a cluster of KUBECONFIG cannot reach this process: there, the policy is checked at reconcile).
    webhooks = await installWebhooks(kubeConfig, { webhooks: webhookSpecsOf([StaticSite]), name: 'static-site-operator' });
  }
  operator = createOperator({
    name: 'static-site-operator', kubeConfig, reconcilers: staticSiteComponents, namespaces: [namespace],
    logLevel: process.env.LOG_LEVEL ?? 'error', server: { secure: false, metricsPort: 0, probePort: 0, host: '127.0.0.1' },
    ...(webhooks ? { webhooks: webhooks.serverOptions } : {}),
  });
  await operator.start({ handleSignals: false });
  step(`operator started, watching namespace ${namespace} (metrics: ${operator.metricsUrl}/metrics${webhooks ? `; admission and conversion webhooks: ${webhooks.url}` : ''})`);

  const site = (name: string, spec: StaticSite['spec']): StaticSite =>
    ({ apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name, namespace }, spec });
  const get = (name: string): Promise<StaticSite> => client.get(StaticSite, { namespace, name });
  const condition = async (name: string, type: string): Promise<Condition | undefined> =>
    (await get(name)).status?.conditions?.find((c) => c.type === type);
  const sites = [
    // Both name the theme 'house', which step 4 creates: until then they are served unthemed.
    site('hello', { image: 'nginx:1.27', replicas: 2, pages: { 'index.html': '<h1>Hello from Maestro</h1>' }, themeRef: 'house' }),
    site('docs', { image: 'nginx:1.27-alpine', replicas: 1, pages: { 'index.html': '<h1>Docs</h1>' }, themeRef: 'house' }),
    site('unpinned', { image: 'nginx', replicas: 1, content: '<h1>Which nginx?</h1>' }),
  ];
  removeDemoObjects = async () => {
    // Sites first, while the operator runs: their finalizer must be honoured before the namespace goes.
    for (const s of sites) await client.delete(s).catch(() => undefined);
    await until('the sites to be deleted', async () => (await client.list(StaticSite, { namespace })).length === 0);
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    step(`removed namespace ${namespace}`);
  };

  heading('1. Create');
  const [hello, docs, unpinned] = sites as [StaticSite, StaticSite, StaticSite];
  for (const s of [hello, docs]) await client.create(s);
  step('created sites hello (2 replicas) and docs (1)');
  const rejected = await client.create(site('too-big', { image: 'nginx:1.27', replicas: 50, content: '' })).then(() => undefined, (err: unknown) => err);
  if (!rejected) sites.push(site('too-big', { image: '', replicas: 50, content: '' })); // removed with the rest
  step(rejected
    ? `site too-big (50 replicas) rejected by the API server, from the CRD schema (@Max(10)): ${messageOf(rejected).split(': ').slice(-1)[0]}`
    : 'site too-big (50 replicas) was accepted (unexpected: is an older StaticSite CRD installed?)');
  if (webhooks) {
    // The API server takes up new webhook configurations within a moment: a dry run (which
    // admission webhooks see, nothing is stored) says when the refusal is in effect.
    await until('the validating webhook to be in effect', () =>
      client.create(unpinned, { dryRun: true }).then(() => false, (err: unknown) => messageOf(err).includes('denied the request') || rethrow(err)));
    const refused = await client.create(unpinned).then(() => undefined, (err: unknown) => (messageOf(err).includes('denied the request') ? err : rethrow(err)));
    if (refused) {
      sites.splice(sites.indexOf(unpinned), 1); // never stored
      step(`site unpinned (image 'nginx': no tag) refused by the operator's validating webhook: ${webhookMessage(refused)}`);
      step('  (the message its Ready=False InvalidSpec condition would carry: one check, from the class, at admission and at reconcile)');
    } else {
      step('site unpinned (image \'nginx\': no tag) was admitted (unexpected: the dry run was refused)');
    }
  } else {
    await client.create(unpinned);
    step(`created site unpinned (image 'nginx': no tag)`);
    const invalid = await until('unpinned to be rejected by the operator', async () => {
      const ready = await condition('unpinned', 'Ready');
      return ready?.reason === 'InvalidSpec' ? ready : undefined;
    });
    step(`unpinned: Ready=False ${invalid.reason}, before any reconciler ran: ${invalid.message}`);
  }
  const ready = await until('hello to be Ready', async () => {
    const c = await condition('hello', 'Ready');
    return c?.status === 'True' ? c : undefined;
  });
  step(`hello: Ready=True (${ready.message}); ConfigMap, Deployment and Service applied`);
  const available = await untilAvailable('hello', 2);

  if (available) {
    heading('2. Scale: replicas 2 → 3');
    const current = await get('hello');
    await client.update<StaticSite>({ ...current, spec: { ...current.spec, replicas: 3 } });
    step('hello: spec.replicas set to 3');
    await untilAvailable('hello', 3);

    heading('3. Self-heal: delete a child by hand');
    const before = await client.get(V1Deployment, { namespace, name: 'hello' });
    await client.delete(before);
    step(`deleted Deployment hello (uid ${before.metadata!.uid!.slice(0, 8)}…) by hand; its ReplicaSet and Pods go with it`);
    const recreated = await until('the Deployment to be recreated', async () => {
      const d = await client.get(V1Deployment, { namespace, name: 'hello' }).catch((err: unknown) => (isNotFound(err) ? undefined : rethrow(err)));
      return d && d.metadata?.uid !== before.metadata?.uid ? d : undefined;
    });
    step(`the operator recreated Deployment hello (uid ${recreated.metadata!.uid!.slice(0, 8)}…)`);
    await untilAvailable('hello', 3);
  }

  heading('4. A shared theme, watched');
  const themed = await until('docs to report its missing theme', async () => {
    const c = await condition('docs', 'Themed');
    return c?.reason === 'ThemeNotFound' ? c : undefined;
  });
  step(`hello and docs name theme house (spec.themeRef), not there yet: Themed=${themed.status} ${themed.reason}`);
  const css = 'h1 { color: rebeccapurple }';
  await client.create<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'house', namespace }, data: { [THEME_KEY]: css } });
  step('created ConfigMap house (theme.css); the sites themselves are not touched');
  const page = async (name: string): Promise<string> => (await client.get(V1ConfigMap, { namespace, name: `${name}-content` })).data?.['index.html'] ?? '';
  await until('hello and docs to render the theme', async () => (await page('hello')).includes(css) && (await page('docs')).includes(css)
    && (await condition('docs', 'Themed'))?.status === 'True');
  step('the watch on ConfigMaps mapped house to hello and docs (an index on spec.themeRef): both re-rendered, Themed=True');
  const restyled = 'h1 { color: seagreen }';
  await client.update<V1ConfigMap>({ ...(await client.get(V1ConfigMap, { namespace, name: 'house' })), data: { [THEME_KEY]: restyled } });
  step('edited ConfigMap house (theme.css)');
  await until('hello and docs to render the edited theme', async () => (await page('hello')).includes(restyled) && (await page('docs')).includes(restyled));
  step('its update event mapped to the same two sites: both re-rendered with the edited theme');
  // The new page rolls the Pods (the content hash is in the Pod template): let docs settle before the table.
  if (available) await untilRolledOut('docs');

  heading('5. Delete');
  const listed = async (): Promise<string | undefined> =>
    (await client.get(V1ConfigMap, { namespace, name: SITE_DIRECTORY })).data?.hello;
  step(`the site directory (ConfigMap ${SITE_DIRECTORY}) lists hello: ${(await listed()) ?? '(not registered)'}`);
  await client.delete(sites[0]!);
  step('deleted site hello');
  await until('hello to be gone', async () => (await client.get(StaticSite, { namespace, name: 'hello' }).then(() => false, (err: unknown) => isNotFound(err) || rethrow(err))));
  step(`finalizer sites.maestro.dev/registration ran: the directory ${(await listed()) === undefined ? 'no longer lists hello' : 'still lists hello (unexpected)'}`);
  const children = (): Promise<boolean[]> => Promise.all([
    client.get(V1ConfigMap, { namespace, name: 'hello-content' }), client.get(V1Deployment, { namespace, name: 'hello' }), client.get(V1Service, { namespace, name: 'hello' }),
  ].map((p) => p.then(() => true, (err: unknown) => (isNotFound(err) ? false : rethrow(err)))));
  if (plane || (await children()).some(Boolean)) {
    await until('the children of hello to be garbage-collected', async () => !(await children()).some(Boolean));
  }
  step('ConfigMap hello-content, Deployment hello and Service hello garbage-collected (owner references)');

  heading('The sites now');
  printTable(Object.fromEntries((await client.list(StaticSite, { namespace })).map((s) => [s.metadata!.name!, s.status?.conditions ?? []] as const)));
  console.log(`\nDone in ${since().trim()}.`);
  if (values.keep) {
    const kubeconfigPath = plane?.kubeconfigPath ?? process.env.KUBECONFIG;
    const k = `${kubectl} --kubeconfig ${kubeconfigPath}`;
    console.log(`\nStill running (Ctrl-C to stop). Explore with kubectl:
  ${k} -n ${namespace} get staticsites,deployments,pods,services
  ${k} -n ${namespace} describe staticsite ${webhooks ? 'docs' : 'unpinned'}
  ${k} -n ${namespace} patch staticsite docs --type merge -p '{"spec":{"replicas":4}}'
  ${k} -n ${namespace} get staticsite docs -w
  ${k} -n ${namespace} edit configmap house     # the theme: docs re-renders
  ${k} get nodes`);
    await new Promise(() => undefined);
  }

  /** Waits until the site reports Available=True, printing each change of its message; false if it never does. */
  async function untilAvailable(name: string, replicas: number): Promise<boolean> {
    let last = '';
    try {
      await until(`${name} to be Available with ${replicas} replicas`, async () => {
        const current = await get(name);
        // Conditions of an older generation (before a scale) are not news.
        const c = current.status?.conditions?.find((x) => x.type === 'Available' && x.observedGeneration === current.metadata?.generation);
        const line = c ? `Available=${c.status} (${c.message})` : '';
        if (line && line !== last) {
          last = line;
          step(`${name}: ${line}`);
        }
        return c?.status === 'True' && c.message?.startsWith(`${replicas}/`);
      }, plane ? 60_000 : 90_000);
      return true;
    } catch (err) {
      step(`${name}: ${await deploymentState(name)}`);
      if (plane) throw err;
      step(`${name} did not become Available: does this cluster have schedulable nodes? (skipping the steps that need running Pods)`);
      return false;
    }
  }
  /** Waits until the Deployment of a site has rolled out its current template and the site says so. */
  async function untilRolledOut(name: string): Promise<void> {
    await until(`${name} to roll out its new page`, async () => {
      const d = await client.get(V1Deployment, { namespace, name });
      const wanted = d.spec?.replicas ?? 1;
      const s = d.status;
      const rolledOut = s?.observedGeneration === d.metadata?.generation && s?.updatedReplicas === wanted && s?.replicas === wanted && s?.availableReplicas === wanted;
      return rolledOut && (await condition(name, 'Available'))?.message === `${wanted}/${wanted} replicas available`;
    }, 90_000);
    step(`${name}: Pods rolled to the themed page`);
  }
  /** The state of a site's Deployment and Pods in one line: what a failed wait prints to explain itself. */
  async function deploymentState(name: string): Promise<string> {
    try {
      const d = await client.get(V1Deployment, { namespace, name });
      const pods = await client.list(V1Pod, { namespace, labelSelector: { 'app.kubernetes.io/instance': name } });
      const conditions = (d.status?.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.reason ?? ''}`).join(', ');
      const phases = pods.map((p) => `${p.metadata?.name} ${p.metadata?.deletionTimestamp ? 'Terminating' : p.status?.phase}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ''}`).join(', ');
      return `Deployment ${d.metadata?.uid?.slice(0, 8)}… wants ${d.spec?.replicas}, ${d.status?.readyReplicas ?? 0} ready, ${d.status?.availableReplicas ?? 0} available (${conditions || 'no conditions'}); Pods: ${phases || 'none'}`;
    } catch (err) {
      return `Deployment state unknown: ${messageOf(err)}`;
    }
  }
} catch (err) {
  console.error(`\ndemo failed: ${messageOf(err)}`);
  process.exitCode = 1;
} finally {
  if (!values.keep || process.exitCode) await cleanup();
}

/** Polls `probe` until it returns a value other than undefined/false; throws at the deadline naming what it waited for. */
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? ` (${messageOf(lastError)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function printTable(all: Record<string, Condition[]>): void {
  const rows = Object.entries(all).map(([name, conditions]) => {
    const ready = conditions.find((c) => c.type === 'Ready');
    const available = conditions.find((c) => c.type === 'Available');
    return [name, ready?.status ?? '-', ready?.reason ?? '-', available?.status ?? '-', available?.message ?? ready?.message ?? ''];
  });
  const header = ['SITE', 'READY', 'REASON', 'AVAILABLE', 'MESSAGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}
