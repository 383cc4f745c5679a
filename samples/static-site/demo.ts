// `npm run demo`: the static-site operator on a local control plane (or the cluster of
// KUBECONFIG), reconciling a few sites, one of them invalid.
//   node dist/samples/static-site/demo.js [--keep]
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { KubeConfig, V1CustomResourceDefinition, V1Namespace } from '@kubernetes/client-node';
import { createOperator, type Condition, type Operator } from 'maestro-operator';
import { generateCRD } from 'maestro-operator/generate';
import { ApiTransport, KubeClient, Registry } from 'maestro-operator/runtime';
import { startControlPlane, type ControlPlane } from 'maestro-operator/testing';
import { StaticSite } from './site.js';
import { staticSiteComponents } from './reconcilers.js';

const { values } = parseArgs({ options: { keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log('Usage: npm run demo [-- --keep]\n  --keep  leave the control plane and operator running for kubectl (Ctrl-C to stop)');
  process.exit(0);
}

const started = performance.now();
const since = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s`;
const step = (line: string) => console.log(`${since()}  ${line}`);

let plane: ControlPlane | undefined;
let operator: Operator | undefined;
/** Undoes what the demo created in a cluster of KUBECONFIG (a local plane just goes away). */
let removeDemoObjects: (() => Promise<void>) | undefined;
async function cleanup(): Promise<void> {
  if (!plane) await removeDemoObjects?.().catch((err: unknown) => console.error(`cleanup: ${err instanceof Error ? err.message : String(err)}`));
  await operator?.stop();
  await plane?.stop();
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  console.log('Maestro demo: the static-site operator\n');
  let kubeConfig: KubeConfig;
  if (process.env.KUBECONFIG) {
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
    step(`using the cluster of KUBECONFIG (${kubeConfig.getCurrentCluster()?.server})`);
  } else {
    step('starting a local control plane: etcd, kube-apiserver, kube-controller-manager');
    // The plane reports each component's start-up, and finally itself.
    plane = await startControlPlane({ controllerManager: true, log: (line) => step(line.startsWith('control plane') ? line : `  ${line}`) });
    kubeConfig = plane.kubeConfig;
  }

  const client = new KubeClient({ transport: ApiTransport.create(kubeConfig), resources: Registry.default.resources, fieldManager: 'maestro-demo' });
  const crd = generateCRD(StaticSite);
  await client.apply(crd);
  await until(async () => {
    const current = await client.get(V1CustomResourceDefinition, { name: crd.metadata!.name! });
    return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  }, 30_000);
  step(`installed CRD ${crd.metadata!.name} (generated from the StaticSite class)`);

  const namespace = `static-site-demo-${Math.random().toString(36).slice(2, 7)}`;
  await client.create<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  operator = createOperator({
    name: 'static-site-operator', kubeConfig, reconcilers: staticSiteComponents, namespaces: [namespace],
    logLevel: process.env.LOG_LEVEL ?? 'error', server: { secure: false, metricsPort: 0, probePort: 0, host: '127.0.0.1' },
  });
  await operator.start({ handleSignals: false });
  step(`operator started, watching namespace ${namespace} (metrics: ${operator.metricsUrl}/metrics)`);

  const site = (name: string, spec: StaticSite['spec']): StaticSite =>
    ({ apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name, namespace }, spec });
  const sites = [
    site('hello', { image: 'nginx:1.27', replicas: 1, content: '<h1>Hello from Maestro</h1>' }),
    site('docs', { image: 'nginx:1.27-alpine', replicas: 2, content: '<h1>Docs</h1>' }),
    site('unpinned', { image: 'nginx', replicas: 1, content: '<h1>Which nginx?</h1>' }),
  ];
  removeDemoObjects = async () => {
    // Sites first, while the operator runs: their finalizer must be honoured before the namespace goes.
    for (const s of sites) await client.delete(s).catch(() => undefined);
    await until(async () => (await client.list(StaticSite, { namespace })).length === 0, 30_000);
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    step(`removed namespace ${namespace}`);
  };
  for (const s of sites) await client.create(s);
  step(`created sites ${sites.map((s) => s.metadata!.name).join(', ')} ('unpinned' breaks a policy the operator checks)`);
  const rejected = await client.create(site('too-big', { image: 'nginx:1.27', replicas: 50, content: '' })).then(() => undefined, (err: unknown) => err);
  if (rejected) step(`the API server rejected site 'too-big' (its CRD schema has the class's constraints): ${(rejected as Error).message.split(': ').slice(-1)[0]}`);

  const seen = new Map<string, string>();
  const conditionsOf = async () => Object.fromEntries(await Promise.all(sites.map(async (s) => {
    const current = await client.get(StaticSite, { namespace, name: s.metadata!.name! });
    return [s.metadata!.name!, current.status?.conditions ?? []] as const;
  })));
  await until(async () => {
    const all = await conditionsOf();
    for (const [name, conditions] of Object.entries(all)) {
      const ready = conditions.find((c) => c.type === 'Ready');
      const line = ready ? `Ready=${ready.status} (${ready.reason})` : 'waiting';
      if (seen.get(name) !== line) {
        seen.set(name, line);
        step(`  ${name.padEnd(9)} ${line}`);
      }
    }
    return Object.values(all).every((conditions) => conditions.some((c) => c.type === 'Ready'));
  }, 60_000);
  step('every site has converged\n');

  printTable(await conditionsOf());
  console.log('\nPods stay Pending here: a local control plane has API server, etcd and controllers, but no nodes.');
  if (values.keep) {
    const kubeconfigPath = plane?.kubeconfigPath ?? process.env.KUBECONFIG;
    console.log(`\nStill running (Ctrl-C to stop). Try:\n  kubectl --kubeconfig ${kubeconfigPath} -n ${namespace} get staticsites,configmaps,deployments,services\n  kubectl --kubeconfig ${kubeconfigPath} -n ${namespace} describe staticsite unpinned`);
    await new Promise(() => undefined);
  }
} catch (err) {
  console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  if (!values.keep || process.exitCode) await cleanup();
}

async function until(probe: () => Promise<boolean | undefined>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function printTable(all: Record<string, Condition[]>): void {
  const rows = Object.entries(all).map(([name, conditions]) => {
    const ready = conditions.find((c) => c.type === 'Ready');
    const available = conditions.find((c) => c.type === 'Available');
    return [name, ready?.status ?? '-', ready?.reason ?? '-', available?.status ?? '-', ready?.message ?? ''];
  });
  const header = ['SITE', 'READY', 'REASON', 'AVAILABLE', 'MESSAGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}
