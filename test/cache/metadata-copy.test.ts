// The informer's metadata-only copies (the smallest plain object): behaviour, and heap
// measured in a fresh process with --expose-gc (heap-probe.ts).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { V1ConfigMap, type V1ObjectMeta } from '@kubernetes/client-node';
import { metadataCopy } from '../../lib/cache/metadata.js';
import { Backoff, Informer, resourceOf, type ApiTransport } from '../../lib/runtime/index.js';
import { waitFor } from '../queue/wait.js';

const probe = join(dirname(fileURLToPath(import.meta.url)), 'heap-probe.js');

/** Runs one probe of heap-probe.ts in a fresh process. */
function measure(name: string): Record<string, number> {
  const out = execFileSync(process.execPath, ['--expose-gc', probe, name], { encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(out) as Record<string, number>;
}

describe('metadata-only copies (metadataCopy)', () => {
  it('keeps every key but managedFields, in order, with the very same values, in a plain object', () => {
    const labels = { app: 'web' };
    const source = JSON.parse(JSON.stringify({
      name: 'a', namespace: 'web', uid: 'u', resourceVersion: '5', generation: 2, creationTimestamp: '2026-01-02T03:04:05Z',
      labels, annotations: { note: 'x' }, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'q' }], finalizers: ['f'],
      managedFields: [{ manager: 'kubectl' }],
    })) as V1ObjectMeta;
    const copy = metadataCopy(source);
    expect(copy).to.not.equal(source);
    expect(Object.getPrototypeOf(copy)).to.equal(Object.prototype);
    expect(Object.keys(copy)).to.deep.equal(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'labels', 'annotations', 'ownerReferences', 'finalizers']);
    for (const key of Object.keys(copy) as Array<keyof V1ObjectMeta>) expect(copy[key], key).to.equal(source[key]);
    expect(source.managedFields, 'the source is left alone').to.have.length(1);
    // Another object of the same keys (the shape is reused) gets its own values.
    const other = metadataCopy({ ...source, name: 'b' });
    expect(other.name).to.equal('b');
    expect(copy.name).to.equal('a');
    // Writable, like any plain object (transforms may change their copy).
    other.name = 'c';
    expect(other.name).to.equal('c');
  });

  it('copies odd keys as own keys ("__proto__" does not become the prototype; a comma does not confuse shapes)', () => {
    const odd = JSON.parse('{"name":"a","__proto__":{"polluted":true},"managedFields":[]}') as V1ObjectMeta;
    const copy = metadataCopy(odd) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).to.equal(Object.prototype);
    expect(Object.keys(copy)).to.deep.equal(['name', '__proto__']);
    expect(copy['polluted']).to.equal(undefined);
    const commas = [metadataCopy({ 'a,b': 1 } as V1ObjectMeta), metadataCopy({ a: 1, b: 2 } as V1ObjectMeta)];
    expect(commas.map((c) => Object.keys(c))).to.deep.equal([['a,b'], ['a', 'b']]);
  });

  it('takes no more heap than an object literal of the same keys (a rest spread took 96 B for the 6 usual keys, the literal 72 B)', function () {
    this.timeout(120_000);
    const { metadataCopy: copy, spread, literal } = measure('metadata') as { metadataCopy: number; spread: number; literal: number };
    expect(copy, `metadataCopy ${copy.toFixed(1)} B, literal ${literal.toFixed(1)} B, spread ${spread.toFixed(1)} B per copy`).to.be.at.most(literal + 2);
    expect(copy).to.be.below(spread);
  });
});

describe('an informer', () => {
  it('re-lists after 410 Gone: drops what is gone (delete events), replaces what changed, keeps the rest', async () => {
    const item = (name: string, rv: string) => ({ metadata: { name, namespace: 'web', uid: `uid-${name}`, resourceVersion: rv }, data: { v: rv } });
    const lists = [
      { metadata: { resourceVersion: '10' }, items: Array.from({ length: 50 }, (_, i) => item(`cm-${i}`, String(i + 1))) },
      // Second list: cm-0..cm-9 are gone, cm-10 changed, the rest are as they were.
      { metadata: { resourceVersion: '20' }, items: [item('cm-10', '15'), ...Array.from({ length: 39 }, (_, i) => item(`cm-${i + 11}`, String(i + 12)))] },
    ];
    let listed = 0;
    let watched = 0;
    const transport = {
      send: async () => structuredClone(lists[Math.min(listed++, lists.length - 1)]),
      watch: async (_path: string, options: { signal: AbortSignal; onEvent: (type: string, object: unknown) => void }) => {
        if (watched++ === 0) options.onEvent('ERROR', { code: 410, message: 'too old resource version' });
        return new Promise((resolve) => {
          if (options.signal.aborted) resolve('aborted');
          options.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
        });
      },
    } as unknown as ApiTransport;
    const informer = new Informer<V1ConfigMap>({ transport, resource: resourceOf(V1ConfigMap), namespace: 'web', backoff: new Backoff(1, 2) });
    const events: string[] = [];
    informer.addHandler({
      onAdd: (o) => events.push(`add ${o.metadata?.name}`),
      onUpdate: (a, b) => events.push(`update ${a.metadata?.name} ${a.data?.['v']}->${b.data?.['v']}`),
      onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    informer.start();
    try {
      await waitFor(() => informer.resourceVersion === '20', 'the re-list');
      expect(informer.stats.expired).to.equal(1);
      expect(informer.size).to.equal(40);
      expect(informer.list().map((o) => o.metadata?.name).sort()).to.deep.equal(lists[1]!.items.map((i) => i.metadata.name).sort());
      for (let i = 0; i < 10; i++) expect(informer.get(`cm-${i}`, 'web')).to.equal(undefined);
      expect(informer.get('cm-10', 'web')?.data?.['v']).to.equal('15');
      expect(events.filter((e) => !e.startsWith('add'))).to.have.members(['update cm-10 11->15', ...Array.from({ length: 10 }, (_, i) => `delete cm-${i}`)]);
      expect(events.filter((e) => e.startsWith('add'))).to.have.length(50);
    } finally {
      await informer.stop();
    }
  });

  it('metadata-only without a transform: holds the metadata alone; reads, index lookups and events get { apiVersion, kind, metadata } around it', async () => {
    const meta = (name: string, rv: string, site: string) => ({
      name, namespace: 'web', uid: `uid-${name}`, resourceVersion: rv, creationTimestamp: '2026-01-02T03:04:05Z', labels: { site },
      managedFields: [{ manager: 'maestro', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:site': {} } } } }],
    });
    const partial = (metadata: object) => ({ apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata });
    const transport = {
      send: async () => structuredClone({ metadata: { resourceVersion: '10' }, items: [partial(meta('a', '1', 's1')), partial(meta('b', '2', 's1'))] }),
      watch: async (_path: string, options: { signal: AbortSignal; onEvent: (type: string, object: unknown) => void }) => {
        options.onEvent('MODIFIED', structuredClone(partial(meta('a', '11', 's2'))));
        options.onEvent('DELETED', structuredClone(partial(meta('b', '12', 's1'))));
        return new Promise((resolve) => {
          if (options.signal.aborted) resolve('aborted');
          options.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
        });
      },
    } as unknown as ApiTransport;
    const informer = new Informer<V1ConfigMap>({
      transport, resource: resourceOf(V1ConfigMap), namespace: 'web', metadataOnly: true, fieldManager: 'maestro',
      indexes: [{ field: 'site', extract: (obj) => obj.metadata?.labels?.['site'] }],
    });
    const events: Array<[string, ...V1ConfigMap[]]> = [];
    informer.addHandler({ onUpdate: (a, b) => events.push(['update', a, b]), onDelete: (o) => events.push(['delete', o]) });
    informer.start();
    try {
      await waitFor(() => informer.resourceVersion === '12', 'the watch events');
    } finally {
      await informer.stop();
    }
    const wrapped = (o: V1ConfigMap | undefined) => o && { keys: Object.keys(o), apiVersion: o.apiVersion, kind: o.kind, name: o.metadata?.name, rv: o.metadata?.resourceVersion };
    expect(events.map(([type, ...objects]) => [type, ...objects.map(wrapped)])).to.deep.equal([
      ['update', { keys: ['apiVersion', 'kind', 'metadata'], apiVersion: 'v1', kind: 'ConfigMap', name: 'a', rv: '1' }, { keys: ['apiVersion', 'kind', 'metadata'], apiVersion: 'v1', kind: 'ConfigMap', name: 'a', rv: '11' }],
      ['delete', { keys: ['apiVersion', 'kind', 'metadata'], apiVersion: 'v1', kind: 'ConfigMap', name: 'b', rv: '2' }],
    ]);
    const first = informer.get('a', 'web')!;
    expect(wrapped(first)).to.deep.equal({ keys: ['apiVersion', 'kind', 'metadata'], apiVersion: 'v1', kind: 'ConfigMap', name: 'a', rv: '11' });
    expect(first.metadata?.creationTimestamp).to.be.instanceOf(Date);
    expect(first.metadata?.managedFields).to.equal(undefined);
    // Each read is a fresh object around the one cached metadata: changing the object does not change the cache.
    first.kind = 'Changed';
    const second = informer.get('a', 'web')!;
    expect([second === first, second.metadata === first.metadata, second.kind]).to.deep.equal([false, true, 'ConfigMap']);
    expect(informer.list(undefined, undefined, { site: 's2' }).map(wrapped)).to.deep.equal([wrapped(second)]);
    expect(informer.list(undefined, undefined, { site: 's1' }), 'b was deleted').to.deep.equal([]);
    expect(informer.list().map(wrapped)).to.deep.equal([wrapped(second)]);
    // The operator's own apply entry is found from any read of the object.
    expect(informer.appliedFields(second, 'maestro')).to.deep.equal({ apiVersion: 'v1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:site': {} } } } });
  });

  it('holds a metadata-only ConfigMap of ~1.1 KiB in under 400 B of heap and under 30 % of the whole object (432 B and 32 % when it held a { apiVersion, kind, metadata } per object)', function () {
    this.timeout(120_000);
    const { whole, metadata } = measure('informer') as { whole: number; metadata: number };
    // Per object: its metadata 72 B (96 as a spread copy), labels 40, the creationTimestamp
    // Date 96, name, uid, resourceVersion and a label value 128, the Map entry ~46; reads
    // make the { apiVersion, kind, metadata } object (48 B) afresh.
    const figures = `metadata-only ${metadata.toFixed(1)} B, whole ${whole.toFixed(1)} B per object (${((metadata / whole) * 100).toFixed(1)} %)`;
    expect(metadata, figures).to.be.below(400);
    expect(metadata / whole, figures).to.be.below(0.30);
  });
});
