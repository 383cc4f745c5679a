// Scenario 4, in a fresh process (node --expose-gc): heap bytes per cached object.
//   BENCH_CACHE_MODE=maestro: a Maestro `Informer` of the namespace's ConfigMaps syncs
//     (its paged list; the watch is then stopped). It keeps client-node model objects
//     without managedFields.
//   BENCH_CACHE_MODE=metadata: the same informer, metadata only (`metadataOnly: true`: the
//     API server sends PartialObjectMetadata, no data), as `@Watches(Kind, map, { metadataOnly })`.
//   BENCH_CACHE_MODE=selected: the same informer scoped by a label selector that matches
//     one ConfigMap in ten (`labelSelector`): only those are listed, watched and held.
//   BENCH_CACHE_MODE=raw: the reference: the same pages read with plain HTTPS and kept as
//     the parsed JSON (managedFields dropped too) in a Map by name: what any JS cache of
//     these objects needs at least.
// Each mode first does the whole thing once unmeasured (so code compiled and connections
// opened for it are not counted), then: full GCs, heap, sync, full GCs, heap; the
// difference divided by the number of objects held. Also reports the objects' JSON size,
// as served and without managedFields.
import 'reflect-metadata';
import { setImmediate as tick } from 'node:timers/promises';
import { KubeConfig, V1ConfigMap, type KubernetesObject } from '@kubernetes/client-node';
import { ApiTransport, Informer, resourceOf } from '../lib/runtime/index.js';
import { CACHE_MODES, SELECTED_LABEL, SELECTED_VALUE, type CacheMode } from './cache-modes.js';
import { Api } from './kube.js';

export interface CacheMemoryResult {
  mode: CacheMode;
  /** Objects the cache holds after its sync. */
  objects: number;
  /** Objects the cache should hold: those of the namespace (matching the selector in `selected` mode). */
  expected: number;
  heapBytesPerObject: number;
  /** Heap of the whole cache (after minus before), whatever it holds. */
  heapBytes?: number;
  /** Mean JSON size of an object as the API serves it (with managedFields). */
  jsonBytesServed: number;
  /** Mean JSON size without managedFields (what the caches keep). */
  jsonBytesCached: number;
  syncMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc!();
    await tick();
  }
  return process.memoryUsage().heapUsed;
}

const mode: CacheMode = CACHE_MODES.find((m) => m === process.env['BENCH_CACHE_MODE']) ?? 'maestro';
const namespace = process.env['BENCH_NAMESPACE']!;
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(process.env['KUBECONFIG']!);
const api = new Api(kubeConfig, 4);
const path = `/api/v1/namespaces/${namespace}/configmaps`;

type Page = { metadata?: { continue?: string }; items?: KubernetesObject[] };

/** Every ConfigMap of the namespace, page by page, as plain parsed JSON. */
async function listRaw(each: (item: KubernetesObject) => void): Promise<void> {
  let token: string | undefined;
  do {
    const page = await api.send<Page>('GET', `${path}?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
    for (const item of page.items ?? []) each(item);
    token = page.metadata?.continue || undefined;
  } while (token);
}

/** The JSON sizes, and the number of objects in the namespace. */
let served = 0;
let cached = 0;
let total = 0;
let expected = 0;
await listRaw((item) => {
  const withKind = { apiVersion: 'v1', kind: 'ConfigMap', ...item };
  served += Buffer.byteLength(JSON.stringify(withKind));
  const { managedFields: _, ...metadata } = withKind.metadata ?? {};
  cached += Buffer.byteLength(JSON.stringify({ ...withKind, metadata }));
  total++;
  if (mode !== 'selected' || metadata.labels?.[SELECTED_LABEL] === SELECTED_VALUE) expected++;
});

async function fill(): Promise<{ keep: unknown; objects: number }> {
  if (mode !== 'raw') {
    const transport = ApiTransport.create(kubeConfig);
    const informer = new Informer({
      transport, resource: resourceOf(V1ConfigMap), namespace,
      ...(mode === 'metadata' ? { metadataOnly: true } : {}),
      ...(mode === 'selected' ? { labelSelector: `${SELECTED_LABEL}=${SELECTED_VALUE}` } : {}),
    });
    informer.start();
    await informer.waitForSync();
    await informer.stop();
    return { keep: informer, objects: informer.size };
  }
  const map = new Map<string, KubernetesObject>();
  await listRaw((item) => {
    // A fresh metadata object rather than `delete`, which would turn it into a slower, larger dictionary.
    const { managedFields: _, ...metadata } = item.metadata ?? {};
    item.metadata = metadata;
    map.set(metadata.name!, item);
  });
  return { keep: map, objects: map.size };
}

// Warm-up, unmeasured (wrapped, so no register of this module keeps its result alive).
await (async () => { await fill(); })();
const before = await settledHeap();
const started = performance.now();
const filled = await fill();
const syncMs = performance.now() - started;
const after = await settledHeap();
api.close();

const result: CacheMemoryResult = {
  mode,
  objects: filled.objects,
  expected,
  heapBytesPerObject: (after - before) / filled.objects,
  heapBytes: after - before,
  // Sizes of the objects of the namespace (all of them, whatever the mode holds).
  jsonBytesServed: served / total,
  jsonBytesCached: cached / total,
  syncMs,
};
void filled.keep;
if (process.send) process.send({ type: 'result', result }, () => process.exit(0));
else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
