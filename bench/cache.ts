// Scenario 4, the harness's side: create the ConfigMaps once, then measure the Maestro
// informer and the raw reference in alternation, each in a fresh process.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CacheMemoryResult } from './cache-memory.js';
import { exited, nextMessage, spawnChild } from './children.js';
import { Api } from './kube.js';

export interface CacheOptions {
  api: Api;
  kubeconfigPath: string;
  benchDir: string;
  objects: number;
  rounds: number;
  log: (line: string) => void;
}

export interface CacheResults {
  objects: number;
  maestro: CacheMemoryResult[];
  raw: CacheMemoryResult[];
}

/** A ConfigMap of about 1 KiB of JSON (without managedFields), with unique data. */
function configMap(namespace: string, index: number) {
  const value = () => randomBytes(95).toString('hex'); // 190 characters
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${String(index).padStart(5, '0')}`, namespace, labels: { 'app.kubernetes.io/name': 'bench', 'bench.maestro.dev/index': String(index) } },
    data: { 'a.txt': value(), 'b.txt': value(), 'c.txt': value(), 'd.txt': value() },
  };
}

async function measure(mode: 'maestro' | 'raw', namespace: string, options: CacheOptions): Promise<CacheMemoryResult> {
  const child = spawnChild({
    module: join(options.benchDir, 'cache-memory.js'),
    label: `cache ${mode}`,
    execArgv: ['--expose-gc'],
    env: { KUBECONFIG: options.kubeconfigPath, BENCH_NAMESPACE: namespace, BENCH_CACHE_MODE: mode },
  });
  try {
    const result = await nextMessage<{ type: string; result?: CacheMemoryResult }, CacheMemoryResult>(child, `cache ${mode}`, 300_000, (m) => (m.type === 'result' ? m.result : undefined));
    await exited(child);
    return result;
  } finally {
    child.kill('SIGKILL');
  }
}

export async function runCache(options: CacheOptions): Promise<CacheResults> {
  const { api, log } = options;
  const namespace = await api.createNamespace('bench-cache');
  try {
    const started = performance.now();
    const indexes = Array.from({ length: options.objects }, (_, i) => i);
    await Api.pool(indexes, 32, (i) => api.send('POST', `/api/v1/namespaces/${namespace}/configmaps`, configMap(namespace, i)));
    log(`cache: created ${options.objects} ConfigMaps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const results: CacheResults = { objects: options.objects, maestro: [], raw: [] };
    for (let round = 1; round <= options.rounds; round++) {
      for (const mode of ['maestro', 'raw'] as const) {
        const result = await measure(mode, namespace, options);
        results[mode].push(result);
        if (result.objects !== result.expected) log(`cache round ${round} ${mode}: WARNING: the cache holds ${result.objects} of the ${result.expected} objects after its sync`);
        log(`cache round ${round} ${mode}: ${result.objects} objects, ${Math.round(result.heapBytesPerObject)} heap bytes/object `
          + `(JSON ${Math.round(result.jsonBytesCached)} B as cached, ${Math.round(result.jsonBytesServed)} B as served), synced in ${Math.round(result.syncMs)} ms`);
      }
    }
    return results;
  } finally {
    await api.emptyNamespace(namespace).catch(() => undefined);
  }
}
