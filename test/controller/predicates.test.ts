import { expect } from 'chai';
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { parentChanged } from '../../lib/runtime/predicates.js';

const obj = (metadata: V1ObjectMeta): KubernetesObject => ({ apiVersion: 'v1', kind: 'X', metadata: { name: 'a', generation: 1, resourceVersion: '1', ...metadata } });

describe('parentChanged (which updates of a parent reconcile)', () => {
  const ours = ['example.com/cleanup'];
  const cases: Array<[string, V1ObjectMeta, V1ObjectMeta, boolean]> = [
    ['a status-only write (same generation, new resourceVersion)', {}, { resourceVersion: '2' }, false],
    ['a spec change (new generation)', {}, { generation: 2 }, true],
    ['a label change', { labels: { a: '1' } }, { labels: { a: '2' } }, true],
    ['a new label', {}, { labels: { a: '1' } }, true],
    ['an annotation change', { annotations: { a: '1' } }, { annotations: {} }, true],
    ['someone else\u2019s finalizer', {}, { finalizers: ['other.io/x'] }, true],
    ['our own finalizer being added (the reconcile that added it carried on)', { finalizers: ['other.io/x'] }, { finalizers: ['other.io/x', 'example.com/cleanup'] }, false],
    ['a finalizer being removed', { finalizers: ['example.com/cleanup'] }, { finalizers: [] }, true],
    ['a deletion starting', {}, { deletionTimestamp: new Date() }, true],
    ['a kind without generation changing at all', { generation: undefined }, { generation: undefined, resourceVersion: '2' }, true],
  ];
  for (const [name, before, after, expected] of cases) {
    it(`${expected ? 'reconciles' : 'ignores'} ${name}`, () => {
      expect(parentChanged(obj(before), obj(after), ours)).to.equal(expected);
    });
  }
});
