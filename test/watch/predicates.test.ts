// The event filters of maestro-operator/watches, as pure functions of the objects.
import { expect } from 'chai';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import {
  and, annotationChanged, annotationsChanged, fieldChanged, generationChanged, labelChanged, labelSelected, labelsChanged, not, or,
  resourceVersionChanged, toPredicate, type Predicate,
} from '../../lib/watch/index.js';
import { allows } from '../../lib/watch/predicates.js';

const obj = (metadata: KubernetesObject['metadata'], rest: Record<string, unknown> = {}): KubernetesObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata, ...rest });
const update = (p: Predicate, a: KubernetesObject, b: KubernetesObject) => allows(p, { type: 'update', oldObj: a, newObj: b });
const create = (p: Predicate, o: KubernetesObject) => allows(p, { type: 'create', obj: o });
const del = (p: Predicate, o: KubernetesObject) => allows(p, { type: 'delete', obj: o });

describe('event filters (predicates)', () => {
  const base = obj({ name: 'a', generation: 1, resourceVersion: '10', labels: { app: 'web' }, annotations: { note: 'x' } }, { data: { k: 'v' } });

  it('generationChanged passes spec changes only; creates and deletes pass', () => {
    expect(update(generationChanged, base, obj({ ...base.metadata, generation: 2 }))).to.equal(true);
    expect(update(generationChanged, base, obj({ ...base.metadata, resourceVersion: '11', labels: { app: 'db' } }))).to.equal(false);
    expect(create(generationChanged, base) && del(generationChanged, base)).to.equal(true);
  });

  it('resourceVersionChanged, labelsChanged, annotationsChanged compare what they name', () => {
    expect(update(resourceVersionChanged, base, obj({ ...base.metadata, resourceVersion: '11' }))).to.equal(true);
    expect(update(resourceVersionChanged, base, base)).to.equal(false);
    expect(update(labelsChanged, base, obj({ ...base.metadata, labels: { app: 'web' } }))).to.equal(false);
    expect(update(labelsChanged, base, obj({ ...base.metadata, labels: { app: 'web', extra: '' } }))).to.equal(true);
    expect(update(labelsChanged, base, obj({ ...base.metadata, labels: undefined }))).to.equal(true);
    expect(update(annotationsChanged, base, obj({ ...base.metadata, annotations: { note: 'y' } }))).to.equal(true);
    expect(update(annotationsChanged, base, obj({ ...base.metadata, labels: {} }))).to.equal(false);
  });

  it('labelChanged and annotationChanged watch one key, own keys only', () => {
    expect(update(labelChanged('app'), base, obj({ ...base.metadata, labels: { app: 'db' } }))).to.equal(true);
    expect(update(labelChanged('app'), base, obj({ ...base.metadata, labels: { app: 'web', other: '1' } }))).to.equal(false);
    expect(update(labelChanged('constructor'), base, obj({ ...base.metadata, labels: {} }))).to.equal(false);
    expect(update(annotationChanged('note'), base, obj({ ...base.metadata, annotations: {} }))).to.equal(true);
    expect(update(annotationChanged('other'), base, obj({ ...base.metadata, annotations: {} }))).to.equal(false);
  });

  it('fieldChanged compares the value at a path deeply (dates by time, undefined fields ignored)', () => {
    const p = fieldChanged('data');
    expect(update(p, base, obj(base.metadata, { data: { k: 'v' } }))).to.equal(false);
    expect(update(p, base, obj(base.metadata, { data: { k: 'w' } }))).to.equal(true);
    expect(update(p, base, obj(base.metadata, { data: { k: 'v', gone: undefined } }))).to.equal(false);
    expect(update(p, base, obj(base.metadata))).to.equal(true);
    const t = fieldChanged('metadata.creationTimestamp');
    expect(update(t, obj({ creationTimestamp: new Date(5) }), obj({ creationTimestamp: new Date(5) }))).to.equal(false);
    expect(update(t, obj({ creationTimestamp: new Date(5) }), obj({ creationTimestamp: new Date(6) }))).to.equal(true);
  });

  it('labelSelected filters every event type by the (new) object\u2019s labels', () => {
    const p = labelSelected('app=web');
    expect(create(p, base)).to.equal(true);
    expect(create(p, obj({ name: 'b' }))).to.equal(false);
    expect(update(p, base, obj({ name: 'a', labels: { app: 'db' } }))).to.equal(false);
    expect(del(p, obj({ name: 'b', labels: { app: 'web' } }))).to.equal(true);
    expect(() => labelSelected('a b c')).to.throw(/invalid label selector/);
  });

  it('and / or / not compose; an event kind no predicate decides passes, negated or not', () => {
    const onlyCreates: Predicate = { update: () => false, delete: () => false };
    expect(create(and(onlyCreates, labelSelected('app=web')), base)).to.equal(true);
    expect(create(and(onlyCreates, labelSelected('app=db')), base)).to.equal(false);
    expect(update(or(generationChanged, labelsChanged), base, obj({ ...base.metadata, labels: {} }))).to.equal(true);
    expect(update(or(generationChanged, labelsChanged), base, obj({ ...base.metadata, resourceVersion: '12' }))).to.equal(false);
    expect(create(or(), base), 'or() lets nothing pass').to.equal(false);
    expect(update(not(generationChanged), base, base)).to.equal(true);
    expect(update(not(generationChanged), base, obj({ ...base.metadata, generation: 9 }))).to.equal(false);
    // The trap of negating "everything passes": generationChanged decides updates only, so
    // its negation must not drop creates and deletes (a parent created later would never reconcile).
    expect(create(not(generationChanged), base), 'not() of an update filter passes creates').to.equal(true);
    expect(del(not(labelChanged('noise')), base), 'and deletes').to.equal(true);
    expect(Object.keys(not(labelChanged('noise')))).to.deep.equal(['update']);
    expect(create(not(and(labelChanged('a'), annotationChanged('b'))), base), 'and() of update filters decides updates only').to.equal(true);
    expect(create(not(or(labelChanged('a'), onlyCreates)), base), 'or() with a kind one of them leaves out passes it').to.equal(true);
    // A predicate that decides a kind is negated for it.
    expect(create(not(labelSelected('app=web')), base)).to.equal(false);
    expect(create(not(labelSelected('app=db')), base)).to.equal(true);
    expect(del(not(onlyCreates), base)).to.equal(true);
  });

  it('a bare function filters updates only', () => {
    const p = toPredicate<V1ConfigMap>((a, b) => a.data?.k !== b.data?.k);
    expect(Object.keys(p)).to.deep.equal(['update']);
    expect(create(p, base)).to.equal(true);
    expect(update(p, base, obj(base.metadata, { data: { k: 'v' } }))).to.equal(false);
  });
});
