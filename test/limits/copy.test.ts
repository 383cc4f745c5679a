import { expect } from 'chai';
import { V1ConfigMap } from '@kubernetes/client-node';
import { MAX_DEPTH_LIMIT, deepCopy, objectLimitsProblems } from '../../lib/limits/index.js';

/** `{"a":{"a":...1}}` nested `levels` deep, parsed as the wire delivers it. */
const deep = (levels: number): unknown => JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);

function depthOf(value: unknown): number {
  let depth = 0;
  for (let v = value; v !== null && typeof v === 'object'; v = (v as { a?: unknown }).a) depth++;
  return depth;
}

describe('limits: deepCopy', () => {
  it('copies a 10,000-deep object, which structuredClone cannot', () => {
    const original = deep(10_000);
    expect(() => structuredClone(original)).to.throw(RangeError); // the recursion deepCopy avoids
    const copy = deepCopy(original);
    expect(depthOf(copy)).to.equal(10_000);
    expect(copy).to.not.equal(original);
    expect((copy as { a: unknown }).a).to.not.equal((original as { a: unknown }).a);
  });

  it('copies JSON data, Dates and client-node models faithfully, sharing nothing', () => {
    const created = new Date('2026-01-02T03:04:05Z');
    const model = Object.assign(new V1ConfigMap(), { metadata: { name: 'x', creationTimestamp: created, labels: { a: 'b' } }, data: { k: 'v' } });
    const original = { model, list: [1, 'two', null, true, [3, { four: 4 }]], nested: { empty: {}, none: [] as unknown[] }, n: 0, s: '' };
    const copy = deepCopy(original);
    expect(copy).to.deep.equal(original);
    expect(copy.model).to.be.instanceOf(V1ConfigMap);
    expect(copy.model.metadata.creationTimestamp).to.be.instanceOf(Date).and.not.equal(created);
    expect(copy.model.metadata.creationTimestamp.getTime()).to.equal(created.getTime());
    copy.model.metadata.labels['a'] = 'changed';
    (copy.list[4] as [number, { four: number }])[1].four = 5;
    expect(model.metadata.labels.a).to.equal('b');
    expect(((original.list[4] as unknown[])[1] as { four: number }).four).to.equal(4);
    expect(deepCopy(7)).to.equal(7);
    expect(deepCopy(null)).to.equal(null);
    const date = deepCopy(created);
    expect(date).to.not.equal(created);
    expect(date.getTime()).to.equal(created.getTime());
  });
});

describe('limits: objectLimitsProblems', () => {
  it('accepts positive integers within the depth cap and names every problem', () => {
    expect(objectLimitsProblems(undefined)).to.deep.equal([]);
    expect(objectLimitsProblems({ maxBytes: 512 * 1024, maxDepth: MAX_DEPTH_LIMIT })).to.deep.equal([]);
    expect(objectLimitsProblems({ maxBytes: 0, maxDepth: 5000 })).to.deep.equal([
      'objectLimits.maxBytes must be a positive integer, got 0',
      `objectLimits.maxDepth must be an integer from 1 to ${MAX_DEPTH_LIMIT}, got 5000`,
    ]);
    expect(objectLimitsProblems({ maxDepth: 1.5 })).to.have.length(1);
  });
});
