// Heap measurements of the cache's parts, in a fresh process run with --expose-gc by
// metadata-copy.test.ts (not a test file itself). Prints one JSON object on stdout.
//   metadata: bytes per copy of the metadata of 10,000 PartialObjectMetadata (values shared):
//             metadataCopy, a rest spread (the informer's copy before), a literal of the keys.
//   informer: heap per object of an Informer of 10,000 ConfigMaps of ~1.1 KiB (those of
//             bench/cache.ts), whole and metadata-only, fed by a fake transport.
import { randomBytes, randomUUID } from 'node:crypto';
import { setImmediate as tick } from 'node:timers/promises';
import { V1ConfigMap, type V1ObjectMeta } from '@kubernetes/client-node';
import { metadataCopy } from '../../lib/cache/metadata.js';
import { Informer, resourceOf, type ApiTransport } from '../../lib/runtime/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const N = 10_000;

async function heap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc!();
    await tick();
  }
  return process.memoryUsage().heapUsed;
}

/** Heap bytes per object of what `make` returns (kept alive until measured). */
async function perObject(make: () => unknown): Promise<number> {
  await make(); // warm-up: code compiled, hidden classes made
  const before = await heap();
  const kept = await make();
  const after = await heap();
  void kept;
  return (after - before) / N;
}

const NAMESPACE = 'bench-cache-abcde';

/** ConfigMaps as the API server lists them (items without apiVersion/kind), as JSON text in pages of 500. */
function pages(metadataOnly: boolean): string[] {
  const texts: string[] = [];
  for (let start = 0; start < N; start += 500) {
    const items = [];
    for (let i = start; i < start + 500; i++) {
      const labels: Record<string, string> = { 'app.kubernetes.io/name': 'bench', 'bench.maestro.dev/index': String(i), ...(i % 10 === 0 ? { 'bench.maestro.dev/sample': 'tenth' } : {}) };
      const metadata = {
        name: `cm-${String(i).padStart(5, '0')}`, namespace: NAMESPACE, uid: randomUUID(), resourceVersion: String(20_000 + i),
        creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString().replace('.000Z', 'Z'), labels,
        managedFields: [{ manager: 'bench', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:a.txt': {}, 'f:b.txt': {}, 'f:c.txt': {}, 'f:d.txt': {} } } }],
      };
      const value = () => randomBytes(95).toString('hex');
      items.push(metadataOnly
        ? { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata }
        : { metadata, data: { 'a.txt': value(), 'b.txt': value(), 'c.txt': value(), 'd.txt': value() } });
    }
    const last = start + 500 >= N;
    texts.push(JSON.stringify({ kind: metadataOnly ? 'PartialObjectMetadataList' : 'ConfigMapList', apiVersion: metadataOnly ? 'meta.k8s.io/v1' : 'v1', metadata: { resourceVersion: '30000', ...(last ? {} : { continue: String(start + 500) }) }, items }));
  }
  return texts;
}

/** A transport that serves the pages (parsed afresh, as off the wire) and watches that stay silent until stopped. */
function fakeTransport(texts: string[]): ApiTransport {
  let next = 0;
  return {
    send: async () => JSON.parse(texts[next++ % texts.length]!) as unknown,
    watch: (_path: string, options: { signal: AbortSignal }) => new Promise((resolve) => {
      if (options.signal.aborted) resolve('aborted');
      options.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    }),
  } as unknown as ApiTransport;
}

async function informerBytes(metadataOnly: boolean): Promise<number> {
  const texts = pages(metadataOnly);
  return perObject(async () => {
    const informer = new Informer({ transport: fakeTransport(texts), resource: resourceOf(V1ConfigMap), namespace: NAMESPACE, metadataOnly });
    informer.start();
    await informer.waitForSync();
    await informer.stop();
    if (informer.size !== N) throw new Error(`the informer holds ${informer.size} objects`);
    return informer;
  });
}

const probe = process.argv[2];
let result: Record<string, number>;
if (probe === 'metadata') {
  const sources = pages(true).flatMap((text) => (JSON.parse(text) as { items: Array<{ metadata: V1ObjectMeta }> }).items.map((item) => item.metadata));
  // Minus the arrays holding the copies (the same for each).
  const array = await perObject(() => sources.map(() => 0));
  result = {
    metadataCopy: (await perObject(() => sources.map((metadata) => metadataCopy(metadata)))) - array,
    // The informer's copy before.
    spread: (await perObject(() => sources.map(({ managedFields: _, ...rest }) => rest))) - array,
    // An object literal of these very keys: one in-object field each, the smallest plain object.
    literal: (await perObject(() => sources.map((m) => ({ name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp, labels: m.labels })))) - array,
  };
} else if (probe === 'informer') {
  result = { whole: await informerBytes(false), metadata: await informerBytes(true) };
} else {
  throw new Error(`unknown probe '${probe}'`);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
