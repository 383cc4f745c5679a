// lib/client/wire.ts turns wire JSON into client-node's model shape with converters built
// once per type, in place of client-node's ObjectSerializer.deserialize, which parses the
// type strings again for every field of every object. The two must agree exactly: on
// every model client-node has, on nulls, unknown fields and hostile shapes, to the
// prototype of every nested value.
import { expect } from 'chai';
import { isDeepStrictEqual } from 'node:util';
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { fromWire, modelFromWire } from '../../lib/client/wire.js';

interface Attribute { baseName: string; type: string }
type ModelClass = { getAttributeTypeMap(): Attribute[] };

const modelTypes = Object.entries(models as unknown as Record<string, unknown>)
  .filter(([, value]) => typeof value === 'function' && typeof (value as Partial<ModelClass>).getAttributeTypeMap === 'function')
  .map(([name]) => name);

/** A wire value of a client-node type string: every field set, some to null, plus fields no model knows. */
function sample(type: string, depth: number, seed: { n: number }): unknown {
  const n = ++seed.n;
  const lower = type.toLowerCase();
  if (lower === 'string') return `s${n}`;
  if (lower === 'boolean') return n % 2 === 0;
  if (['double', 'integer', 'long', 'float', 'number'].includes(lower)) return n;
  if (lower === 'any') return { nested: [n, `a${n}`, { deep: true }], creationTimestamp: '2026-01-02T03:04:05Z' };
  if (type === 'Date') return `2026-01-02T03:04:${String(n % 60).padStart(2, '0')}Z`;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return depth > 3 ? [] : [sample(array[1]!, depth + 1, seed), null];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return depth > 3 ? {} : { a: sample(map[1]!, depth + 1, seed), b: null };
  const model = (models as unknown as Record<string, ModelClass | undefined>)[type];
  if (!model) return `unknown-type-${n}`;
  const out: Record<string, unknown> = { fieldNoModelHas: n };
  if (depth > 3) return out;
  for (const attribute of model.getAttributeTypeMap()) {
    out[attribute.baseName] = n % 7 === 0 ? null : sample(attribute.type, depth + 1, seed);
  }
  return out;
}

/** The same value, to the prototype of every nested value and the order of every object's keys (JSON keeps it). */
function same(ours: unknown, theirs: unknown, what: string): void {
  expect(JSON.stringify(ours), `${what}: the same JSON, keys in the same order`).to.equal(JSON.stringify(theirs));
  if (!isDeepStrictEqual(ours, theirs)) expect.fail(`${what}: the same JSON but not the same prototypes or Dates`);
}

/** Runs `check` with a serializer registered for `gvk` through client-node's registry, which records what it is given and answers `{ registered: true }`. */
function withRegistered(gvk: { group: string; version: string; kind: string }, check: (seen: unknown[]) => void): void {
  const seen: unknown[] = [];
  ObjectSerializer.registerModel(gvk, {
    serialize: (data: unknown) => data,
    deserialize: (data: unknown) => { seen.push(data); return { registered: true }; },
  });
  try {
    check(seen);
  } finally {
    ObjectSerializer.clearModelRegistry();
  }
}

function agree(wire: unknown, type: string): void {
  same(modelFromWire(structuredClone(wire), type), ObjectSerializer.deserialize(structuredClone(wire), type), type);
}

describe('Wire to model shape (lib/client/wire.ts) agrees with client-node\u2019s ObjectSerializer', () => {
  it(`on every model client-node has (${modelTypes.length}), with every field set, nulls and unknown fields`, () => {
    expect(modelTypes.length).to.be.greaterThan(500);
    for (const type of modelTypes) agree(sample(type, 0, { n: 0 }), type);
  });

  it('on objects as the API server sends them, custom resources included', () => {
    const objects = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'n', uid: 'u', resourceVersion: '7', creationTimestamp: '2026-12-03T17:00:00Z', labels: { app: 's' },
        ownerReferences: [{ apiVersion: 'bench.maestro.dev/v1', kind: 'Site', name: 's', uid: 'p', controller: true, blockOwnerDeletion: true }],
        managedFields: [{ manager: 'm', operation: 'Apply', apiVersion: 'v1', time: '2026-12-03T17:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:ports': {} } } }] },
      spec: { ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 's' }, clusterIP: '10.0.0.12', clusterIPs: ['10.0.0.12'], type: 'ClusterIP' },
      status: { loadBalancer: {} } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', deletionTimestamp: '2026-12-03T17:00:01Z', finalizers: ['x/y'] }, data: { 'index.html': '<h1>h\u00e9llo</h1>' }, binaryData: { b: 'AAE=' }, immutable: false },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 2, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } },
        spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '1', memory: '1Gi' } }, ports: [{ containerPort: 80 }] }] } }, strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } } },
      status: { conditions: [{ type: 'Available', status: 'True', lastUpdateTime: '2026-12-03T17:00:00Z', lastTransitionTime: '2026-12-03T17:00:00Z' }] } },
      { apiVersion: 'example.com/v1', kind: 'Site', metadata: { name: 'x', creationTimestamp: '2026-12-03T17:00:00Z' }, spec: { when: '2026-12-03T17:00:00Z', replicas: 3 }, status: { conditions: [] } },
    ];
    for (const object of objects) {
      const ours = fromWire(structuredClone(object) as never);
      const theirs: unknown = ObjectSerializer.deserialize(structuredClone(object), object.apiVersion.includes('example.com') ? 'KubernetesObject' : object.kind === 'Deployment' ? 'V1Deployment' : `V1${object.kind}`);
      expect(isDeepStrictEqual(ours, theirs), `${object.kind}`).to.equal(true);
    }
    const service = fromWire(structuredClone(objects[0]!) as never) as { constructor: { name: string }; metadata: { creationTimestamp: unknown } };
    expect(service.constructor.name).to.equal('V1Service');
    expect(service.metadata.creationTimestamp).to.be.instanceOf(Date);
  });

  it('on hostile shapes: a string for an object or a map, nulls in arrays, an invalid date, a number for an array', () => {
    agree({ metadata: 'not an object', spec: { selector: 'abc', ports: [null, { port: 80 }] } }, 'V1Service');
    agree({ metadata: { creationTimestamp: 'not a date', labels: null } }, 'V1ConfigMap');
    expect(() => modelFromWire({ metadata: { finalizers: 5 } }, 'V1ConfigMap')).to.throw(TypeError);
    expect(() => { ObjectSerializer.deserialize({ metadata: { finalizers: 5 } }, 'V1ConfigMap'); }).to.throw(TypeError);
  });

  it('on custom resources: client-node\u2019s own class, metadata as V1ObjectMeta, every other field as is, hostile shapes included', () => {
    const site = { apiVersion: 'example.com/v1', kind: 'Site', metadata: { name: 'x', namespace: 'n', generation: 2, creationTimestamp: '2026-12-03T17:00:00Z',
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u' }],
      managedFields: [{ manager: 'm', operation: 'Update', apiVersion: 'example.com/v1', time: '2026-12-03T17:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': {} }, subresource: 'status' }] },
    spec: { content: 'h\u00e9llo', port: 80, when: '2026-12-03T17:00:00Z' }, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-03T17:00:00Z' }], observedGeneration: 2 } };
    const shapes: unknown[] = [
      site,
      { ...site, metadata: null },
      { apiVersion: 'example.com/v1', kind: 'Site' },
      { kind: null, apiVersion: 'example.com/v1', metadata: 'not an object', spec: null, extra: [1, null] },
      { apiVersion: 'example.com/v1', kind: 'Site', metadata: { name: 'x', labels: null, creationTimestamp: 'not a date' } },
      { apiVersion: 'example.com/v1', spec: {} }, // no kind: not a Kubernetes object, kept as is
      [site],
      'a string',
      5,
    ];
    for (const wire of shapes) {
      agree(wire, 'KubernetesObject');
      if (typeof wire === 'object' && !Array.isArray(wire)) {
        same(fromWire(structuredClone(wire) as never), ObjectSerializer.deserialize(structuredClone(wire), 'KubernetesObject'), JSON.stringify(wire));
      }
    }
    const ours = fromWire(structuredClone(site) as never) as { metadata: { constructor: { name: string }; creationTimestamp: unknown }; spec: { when: unknown } };
    expect(ours.metadata.constructor.name).to.equal('V1ObjectMeta');
    expect(ours.metadata.creationTimestamp).to.be.instanceOf(Date);
    expect(ours.spec.when, 'a custom resource\u2019s own fields stay as sent').to.equal('2026-12-03T17:00:00Z');
    expect(Object.keys(ours), 'apiVersion, kind and metadata first, as client-node orders them').to.deep.equal(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

    // A "__proto__" key (JSON.parse makes it an own property): client-node's assignment makes
    // it the instance's prototype, and so does ours; Object.prototype is not touched.
    const hostile: unknown = JSON.parse('{"metadata":{"name":"p"},"apiVersion":"example.com/v1","__proto__":{"polluted":true},"kind":"Site"}');
    const theirs = ObjectSerializer.deserialize(hostile, 'KubernetesObject') as Record<string, unknown>;
    const mine = modelFromWire<Record<string, unknown>>(hostile, 'KubernetesObject');
    expect(JSON.stringify(mine)).to.equal(JSON.stringify(theirs));
    expect(Object.getPrototypeOf(mine)).to.equal(Object.getPrototypeOf(theirs)).and.deep.equal({ polluted: true });
    expect(mine['polluted']).to.equal(true);
  });

  it('leaves a custom resource kind with a serializer registered through client-node\u2019s ObjectSerializer.registerModel to it', () => {
    withRegistered({ group: 'example.com', version: 'v1', kind: 'Site' }, (seen) => {
      expect(fromWire({ apiVersion: 'example.com/v1', kind: 'Site', metadata: { name: 's' } })).to.deep.equal({ registered: true });
      expect(modelFromWire({ apiVersion: 'example.com/v1', kind: 'Site' }, 'KubernetesObject')).to.deep.equal({ registered: true });
      expect(seen).to.have.length(2);
    });
  });

  it('leaves a kind with a serializer registered through client-node\u2019s ObjectSerializer.registerModel to it', () => {
    withRegistered({ group: '', version: 'v1', kind: 'ConfigMap' }, (seen) => {
      expect(fromWire({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } })).to.deep.equal({ registered: true });
      expect(seen).to.have.length(1);
    });
  });
});
