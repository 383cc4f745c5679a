// Contender (c): the same Site operator written with @dot-i/k8s-operator (the npm
// TypeScript peer), following its README: a subclass of its `Operator` that watches the
// Sites of the namespace and, for an added or modified Site whose
// status.observedGeneration is not its generation, applies both children (server-side
// apply through the operator's own CoreV1Api, with the owner reference set by hand)
// and patches the status with `patchResourceStatus`.
//
// Used as it comes: the peer hands events to one handler at a time (an async.queue of
// concurrency 1), so `concurrency` does not apply; its status writes go through gaxios
// with a new https.Agent per request (no keep-alive), and it watches without a
// resourceVersion. It is installed under bench/peer/ only and loaded from there (it
// brings its own @kubernetes/client-node 0.20), so the root package never depends on it.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../contender.js';
import { FIELD_MANAGER, SITE, configMapFor, owned, readyStatus, serviceFor, type SiteObject } from '../site.js';

/** The parts of the peer's API used here (its types live in bench/peer/node_modules, which the root build must not need). */
interface PeerLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
interface ResourceMeta { name: string; namespace?: string; id: string; resourceVersion: string; apiVersion: string; kind: string }
interface ResourceEvent { meta: ResourceMeta; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: unknown }
interface CoreV1Api020 {
  patchNamespacedConfigMap(name: string, namespace: string, body: object, pretty?: string, dryRun?: string, fieldManager?: string,
    fieldValidation?: string, force?: boolean, options?: { headers: Record<string, string> }): Promise<unknown>;
  patchNamespacedService(name: string, namespace: string, body: object, pretty?: string, dryRun?: string, fieldManager?: string,
    fieldValidation?: string, force?: boolean, options?: { headers: Record<string, string> }): Promise<unknown>;
}
interface PeerOperator {
  start(): Promise<void>;
  stop(): void;
}
type PeerOperatorClass = abstract new (logger?: PeerLogger) => PeerOperator & {
  k8sApi: CoreV1Api020;
  watchResource(group: string, version: string, plural: string, onEvent: (event: ResourceEvent) => Promise<void>, namespace?: string): Promise<void>;
  patchResourceStatus(meta: ResourceMeta, status: unknown): Promise<ResourceMeta | null>;
};

const peerDir = process.env['BENCH_PEER_DIR'] ?? join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'bench', 'peer');
const requirePeer = createRequire(join(peerDir, 'package.json'));
const Operator = (requirePeer('@dot-i/k8s-operator') as { default: PeerOperatorClass }).default;

const APPLY = { headers: { 'Content-Type': 'application/apply-patch+yaml' } };

const logger: PeerLogger = {
  debug() {},
  info() {},
  warn: (message) => process.stderr.write(`peer: ${message}\n`),
  error: (message) => process.stderr.write(`peer: ${message}\n`),
};

await serve(({ namespace }) => {
  let reconciles = 0;
  let lastReconcile = 0;

  class SiteOperator extends Operator {
    protected async init(): Promise<void> {
      await this.watchResource(SITE.group, SITE.version, SITE.plural, async (e) => {
        try {
          if (e.type === 'ADDED' || e.type === 'MODIFIED') await this.resourceModified(e);
        } catch (err) {
          logger.error(`${e.meta.name}: ${err instanceof Error ? err.message : JSON.stringify(err)}`);
        }
      }, namespace);
    }

    private async resourceModified(e: ResourceEvent): Promise<void> {
      const site = e.object as SiteObject;
      const metadata = site.metadata!;
      if (site.status && site.status.observedGeneration === metadata.generation) return;
      reconciles++;
      const name = metadata.name!;
      await this.k8sApi.patchNamespacedConfigMap(name, namespace, owned(configMapFor(site), site), undefined, undefined, FIELD_MANAGER, undefined, true, APPLY);
      await this.k8sApi.patchNamespacedService(name, namespace, owned(serviceFor(site), site), undefined, undefined, FIELD_MANAGER, undefined, true, APPLY);
      await this.patchResourceStatus(e.meta, readyStatus(site));
      lastReconcile = performance.now();
    }
  }

  // The peer reads KUBECONFIG itself (loadFromDefault), which the harness sets.
  const operator = new (SiteOperator as unknown as new (logger: PeerLogger) => PeerOperator)(logger);
  return {
    start: () => operator.start(),
    // The peer's stop() aborts its watch, whose callback then exits the process with 1;
    // the process exits right after reporting anyway.
    stop: async () => {},
    reconciles: () => reconciles,
    lastReconcileMs: () => lastReconcile,
  };
});
