// Contender (b), the baseline: a hand-written loop with @kubernetes/client-node doing only
// the calls the job needs, which approximates the limit of the API server.
//   - finding work: one list of the namespace's Sites, then one watch from the list's
//     resourceVersion (the harness creates the Sites after the operator is ready, so the
//     work arrives through the watch); a Site needs work while it is not Ready for its
//     current generation;
//   - per Site: one server-side apply per child (ConfigMap, Service, with the controller
//     owner reference) and one merge patch of the status subresource (Ready=True,
//     observedGeneration); no cache of children, no retries beyond the watch's;
//   - `concurrency` workers over a de-duplicating queue of keys (a key is never worked on
//     twice at once, like client-go's work queue);
//   - one pool of keep-alive connections: client-node's KubeConfig creates a new undici
//     Agent (so a new TCP + TLS connection) for every request; the baseline keeps the
//     first one and reuses it, as client-go does. BENCH_BASELINE_CONNECTIONS=fresh keeps
//     client-node's behaviour (for comparison).
import {
  CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, ServerConfiguration, Watch, createConfiguration, setHeaderOptions,
  type RequestContext, type SecurityAuthentication,
} from '@kubernetes/client-node';
import { serve } from '../contender.js';
import { FIELD_MANAGER, SITE, configMapFor, isReady, owned, readyStatus, serviceFor, type SiteObject } from '../site.js';

const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

await serve(({ kubeconfigPath, namespace, concurrency }) => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  if (process.env['BENCH_BASELINE_CONNECTIONS'] === 'fresh') {
    core = kubeConfig.makeApiClient(CoreV1Api);
    custom = kubeConfig.makeApiClient(CustomObjectsApi);
  } else {
    let dispatcher: ReturnType<RequestContext['getDispatcher']>;
    const auth: SecurityAuthentication = {
      getName: () => 'kubeconfig-shared-dispatcher',
      async applySecurityAuthentication(context: RequestContext) {
        await kubeConfig.applySecurityAuthentication(context);
        if (dispatcher) context.setDispatcher(dispatcher);
        else dispatcher = context.getDispatcher();
      },
    };
    const configuration = createConfiguration({ baseServer: new ServerConfiguration(kubeConfig.getCurrentCluster()!.server, {}), authMethods: { default: auth } });
    core = new CoreV1Api(configuration);
    custom = new CustomObjectsApi(configuration);
  }
  const watch = new Watch(kubeConfig);
  const path = `/apis/${SITE.group}/${SITE.version}/namespaces/${namespace}/${SITE.plural}`;

  const latest = new Map<string, SiteObject>();
  const queue: string[] = [];
  const queued = new Set<string>();
  const processing = new Set<string>();
  const again = new Set<string>();
  const idle: Array<() => void> = [];
  let reconciles = 0;
  let lastReconcile = 0;
  let stopped = false;
  let resourceVersion = '';
  let controller: AbortController | undefined;

  const add = (name: string) => {
    if (queued.has(name)) return;
    if (processing.has(name)) {
      again.add(name);
      return;
    }
    queued.add(name);
    queue.push(name);
    idle.shift()?.();
  };
  const observe = (site: SiteObject) => {
    const name = site.metadata!.name!;
    latest.set(name, site);
    if (!isReady(site)) add(name);
  };

  async function reconcile(name: string): Promise<void> {
    const site = latest.get(name);
    if (!site || isReady(site)) return;
    reconciles++;
    await core.patchNamespacedConfigMap({ name, namespace, body: owned(configMapFor(site), site), fieldManager: FIELD_MANAGER, force: true }, apply);
    await core.patchNamespacedService({ name, namespace, body: owned(serviceFor(site), site), fieldManager: FIELD_MANAGER, force: true }, apply);
    await custom.patchNamespacedCustomObjectStatus({
      group: SITE.group, version: SITE.version, namespace, plural: SITE.plural, name, body: { status: readyStatus(site) },
    }, merge);
    lastReconcile = performance.now();
  }

  async function worker(): Promise<void> {
    while (!stopped) {
      const name = queue.shift();
      if (name === undefined) {
        await new Promise<void>((resolve) => idle.push(resolve));
        continue;
      }
      queued.delete(name);
      processing.add(name);
      try {
        await reconcile(name);
      } catch (err) {
        process.stderr.write(`baseline: ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
        setTimeout(() => add(name), 100);
      } finally {
        processing.delete(name);
        if (again.delete(name)) add(name);
      }
    }
  }

  function startWatch(): Promise<void> {
    return watch.watch(path, { resourceVersion, allowWatchBookmarks: true }, (type: string, obj: SiteObject) => {
      if (obj.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
      if (type === 'ADDED' || type === 'MODIFIED') observe(obj);
      else if (type === 'DELETED') latest.delete(obj.metadata!.name!);
    }, (err: unknown) => {
      if (stopped) return;
      if (err) process.stderr.write(`baseline: watch ended: ${err instanceof Error ? err.message : JSON.stringify(err)}\n`);
      setTimeout(() => void startWatch(), err ? 500 : 0);
    }).then((c) => { controller = c; });
  }

  return {
    async start() {
      const list = await custom.listNamespacedCustomObject({ group: SITE.group, version: SITE.version, namespace, plural: SITE.plural }) as {
        metadata?: { resourceVersion?: string }; items?: SiteObject[];
      };
      resourceVersion = list.metadata?.resourceVersion ?? '';
      for (const item of list.items ?? []) observe(item);
      await startWatch();
      for (let i = 0; i < concurrency; i++) void worker();
    },
    async stop() {
      stopped = true;
      controller?.abort();
      for (const wake of idle.splice(0)) wake();
    },
    reconciles: () => reconciles,
    lastReconcileMs: () => lastReconcile,
  };
});
