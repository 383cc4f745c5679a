// The cache's field indexes: lookups find exactly what is indexed, kept up to date.
import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Indexer, indexValues } from '../../lib/runtime/index.js';

type Site = KubernetesObject & { spec: { secretName?: unknown; extra?: string[] } };
const site = (name: string, secretName: unknown, extra?: string[]): Site =>
  ({ apiVersion: 'x/v1', kind: 'Site', metadata: { name, namespace: 'ns' }, spec: { secretName, ...(extra ? { extra } : {}) } });

describe('Indexer', () => {
  const errors: string[] = [];
  const make = () => new Indexer<Site>([
    { field: 'spec.secretName', extract: (o) => (o as Site).spec.secretName as string | undefined },
    { field: 'spec.extra', extract: (o) => (o as Site).spec.extra },
  ], (field, obj, err) => errors.push(`${field} ${obj.metadata?.name}: ${String(err)}`));
  const names = (i: Indexer<Site>, field: string, value: string) => [...i.lookup(field, value)].map(([, o]) => o.metadata?.name).sort();

  it('finds the objects indexed under a value, and follows updates and removals', () => {
    const i = make();
    i.update('ns/a', site('a', 's1'));
    i.update('ns/b', site('b', 's1', ['x', 'y', 'x']));
    i.update('ns/c', site('c', 's2'));
    expect(names(i, 'spec.secretName', 's1')).to.deep.equal(['a', 'b']);
    expect(names(i, 'spec.extra', 'x')).to.deep.equal(['b']);
    expect(i.valuesOf('ns/b', 'spec.extra')).to.deep.equal(['x', 'y']);
    i.update('ns/a', site('a', 's2'));
    expect(names(i, 'spec.secretName', 's1')).to.deep.equal(['b']);
    expect(names(i, 'spec.secretName', 's2')).to.deep.equal(['a', 'c']);
    expect(i.holds('spec.secretName', 's2', 'ns/a')).to.equal(true);
    i.remove('ns/c');
    expect(names(i, 'spec.secretName', 's2')).to.deep.equal(['a']);
    expect(names(i, 'spec.secretName', 'nothing')).to.deep.equal([]);
    expect(names(i, 'no.such.field', 's2')).to.deep.equal([]);
  });

  it('leaves an object out of an index whose function throws or returns garbage, and reports it', () => {
    errors.length = 0;
    const i = make();
    i.update('ns/bad', site('bad', 42));
    i.update('ns/worse', { ...site('worse', 's1'), spec: null } as unknown as Site);
    i.update('ns/good', site('good', 's1'));
    expect(names(i, 'spec.secretName', 's1')).to.deep.equal(['good']);
    expect(errors).to.have.length(3);
    expect(errors[0]).to.contain('spec.secretName bad').and.contain('must return a string');
  });

  it('indexes by the object given and looks up the form the store holds, when that is another', () => {
    const i = new Indexer<Site, string>([{ field: 'spec.secretName', extract: (o) => (o as Site).spec.secretName as string }]);
    i.update('ns/a', site('a', 's1'), 'held a');
    i.update('ns/b', site('b', 's1'), 'held b');
    i.update('ns/a', site('a', 's2'), 'held a again');
    expect([...i.lookup('spec.secretName', 's1')]).to.deep.equal([['ns/b', 'held b']]);
    expect([...i.lookup('spec.secretName', 's2')]).to.deep.equal([['ns/a', 'held a again']]);
  });

  it('indexValues accepts a string, an array of strings or nothing', () => {
    const o = site('a', 'x');
    expect(indexValues(() => 'v', o)).to.deep.equal(['v']);
    expect(indexValues(() => ['v', 'w', 'v', undefined as unknown as string], o)).to.deep.equal(['v', 'w']);
    expect(indexValues(() => null, o)).to.deep.equal([]);
    expect(() => indexValues(() => [1] as unknown as string[], o)).to.throw(TypeError);
  });
});
