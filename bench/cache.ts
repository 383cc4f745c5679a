// Scenario 5, the harness's side: create the ConfigMaps once, then measure the Maestro
// informer (whole objects, metadata only, label-selected) and the raw reference in
// alternation, each in a fresh process.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CacheMemoryResult } from './cache-memory.js';
import { CACHE_MODES, SELECTED_LABEL, SELECTED_VALUE, type CacheMode } from './cache-modes.js';
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
  /** Metadata-only informer (absent from results saved before it was measured). */
  metadata?: CacheMemoryResult[];
  /** Informer scoped to one ConfigMap in ten by a label selector (idem). */
  selected?: CacheMemoryResult[];
}

/** A ConfigMap of about 1 KiB of JSON (without managedFields), with unique data. */
function configMap(namespace: string, index: number) {
  const value = () => randomBytes(95).toString('hex'); // 190 characters
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `cm-${String(index).padStart(5, '0')}`, namespace,
      labels: { 'app.kubernetes.io/name': 'bench', 'bench.maestro.dev/index': String(index).padStart(5, '0'), ...(index % 10 === 0 ? { [SELECTED_LABEL]: SELECTED_VALUE } : {}) },
    },
    data: { 'a.txt': value(), 'b.txt': value(), 'c.txt': value(), 'd.txt': value() },
  };
}

async function measure(mode: CacheMode, namespace: string, options: CacheOptions): Promise<CacheMemoryResult> {
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
    const results: Required<CacheResults> = { objects: options.objects, maestro: [], metadata: [], selected: [], raw: [] };
    for (let round = 1; round <= options.rounds; round++) {
      for (const mode of CACHE_MODES) {
        const result = await measure(mode, namespace, options);
        results[mode].push(result);
        if (result.objects !== result.expected) log(`cache round ${round} ${mode}: WARNING: the cache holds ${result.objects} of the ${result.expected} objects after its sync`);
        log(`cache round ${round} ${mode}: ${result.objects} objects, ${Math.round(result.heapBytesPerObject)} heap bytes/object, ${((result.heapBytes ?? 0) / 2 ** 20).toFixed(1)} MiB in all `
          + `(JSON ${Math.round(result.jsonBytesCached)} B as cached, ${Math.round(result.jsonBytesServed)} B as served), synced in ${Math.round(result.syncMs)} ms`);
      }
    }
    return results;
  } finally {
    await api.emptyNamespace(namespace).catch(() => undefined);
  }
}
