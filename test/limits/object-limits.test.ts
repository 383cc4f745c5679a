import { expect } from 'chai';
import {
  DEFAULT_OBJECT_LIMITS, ObjectLimitError, assertWithinLimits, checkObjectLimits,
} from '../../lib/limits/index.js';
import { TerminalError, isTerminal } from '../../lib/api/index.js';
import { catchError } from '../support/errors.js';

/** A custom resource as the API server sends it (JSON text), nesting `levels` deep in spec. */
function deepObjectJSON(levels: number): string {
  // Built as text, as it arrives on the wire: `{"a":{"a":...}}`.
  return `{"apiVersion":"example.com/v1","kind":"Blob","metadata":{"name":"deep","namespace":"x"},"spec":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
}

function bigObjectJSON(bytes: number): string {
  return JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Blob', metadata: { name: 'big', namespace: 'x' }, spec: { data: 'x'.repeat(bytes) } });
}

describe('limits: checkObjectLimits', () => {
  it('refuses a 6,000-deep object with ObjectTooDeep, without recursion', () => {
    const deep: unknown = JSON.parse(deepObjectJSON(6000));
    const violation = checkObjectLimits(deep);
    expect(violation).to.deep.include({ reason: 'ObjectTooDeep', limit: DEFAULT_OBJECT_LIMITS.maxDepth });
    expect(violation?.message).to.equal('the object nests deeper than 100 levels; it is not reconciled');
  });

  it('walks objects far deeper than the call stack allows (JSON.stringify overflows on them)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    expect(() => JSON.stringify(deep)).to.throw(RangeError); // the recursion the check avoids
    expect(checkObjectLimits(deep)?.reason).to.equal('ObjectTooDeep');
    // Even with a depth limit above the nesting, the walk completes (and finds the size).
    expect(checkObjectLimits(deep, { maxDepth: 300_000, maxBytes: 10_000_000 })).to.equal(undefined);
    expect(checkObjectLimits(deep, { maxDepth: 300_000, maxBytes: 1_000 })?.reason).to.equal('ObjectTooLarge');
  });

  it('counts depth from the object itself: N levels pass a limit of N and fail N-1', () => {
    const obj: unknown = JSON.parse('{"spec":{"a":[{"b":1}]}}'); // object, spec, a (array), element
    expect(checkObjectLimits(obj, { maxDepth: 4 })).to.equal(undefined);
    expect(checkObjectLimits(obj, { maxDepth: 3 })?.reason).to.equal('ObjectTooDeep');
  });

  it('accepts a 1.4 MiB object by default (the API server stores it), and refuses it with ObjectTooLarge under a lower limit', () => {
    const text = bigObjectJSON(1.4 * 1024 * 1024);
    const big: unknown = JSON.parse(text);
    expect(DEFAULT_OBJECT_LIMITS.maxBytes).to.equal(3 * 1024 * 1024);
    expect(checkObjectLimits(big)).to.equal(undefined);
    const violation = checkObjectLimits(big, { maxBytes: 1_048_576 });
    expect(violation).to.deep.include({ reason: 'ObjectTooLarge', limit: 1_048_576 });
    expect(violation?.message).to.equal('the object is larger than 1048576 bytes as JSON; it is not reconciled');
    expect(checkObjectLimits(JSON.parse(bigObjectJSON(3 * 1024 * 1024)))?.reason).to.equal('ObjectTooLarge');
  });

  it('measures exactly the bytes JSON.stringify writes (escapes, UTF-8, Dates, omitted members)', () => {
    const samples: unknown[] = [
      { a: 'plain', b: 'quote " backslash \\ newline \n tab \t nul \u0000', c: 'héllo wörld ✓ 𝄞' },
      { metadata: { name: 'x', creationTimestamp: new Date('2026-01-02T03:04:05Z'), labels: {} }, list: [1, -2.5, 1e21, true, false, null] },
      { 'key "quoted" \\': 'x', '✓': '\u007f\u001f', lone: '\ud800', edges: ' !#[]~', long: 'a'.repeat(5000) + '"' },
      { skipped: undefined, fn: () => 1, kept: [undefined, () => 1, NaN, Infinity], nested: [[[]], {}] },
      JSON.parse(bigObjectJSON(1000)),
      [],
      'just a string',
      42,
    ];
    for (const sample of samples) {
      const exact = Buffer.byteLength(JSON.stringify(sample), 'utf8');
      expect(checkObjectLimits(sample, { maxBytes: exact }), JSON.stringify(sample).slice(0, 60)).to.equal(undefined);
      expect(checkObjectLimits(sample, { maxBytes: exact - 1 })?.reason, JSON.stringify(sample).slice(0, 60)).to.equal('ObjectTooLarge');
    }
  });

  it('accepts ordinary objects under the defaults', () => {
    const deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'x', labels: { app: 'web' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }], securityContext: { capabilities: { drop: ['ALL'] } } }] } } },
    };
    expect(checkObjectLimits(deployment)).to.equal(undefined);
  });

  it('assertWithinLimits throws a terminal ObjectLimitError whose reason is the condition reason', () => {
    const err = catchError(() => assertWithinLimits(JSON.parse(deepObjectJSON(6000))));
    expect(err).to.be.instanceOf(ObjectLimitError).and.instanceOf(TerminalError);
    expect(isTerminal(err)).to.equal(true);
    expect((err as ObjectLimitError).reason).to.equal('ObjectTooDeep');
    expect((err as ObjectLimitError).violation.limit).to.equal(100);
    expect(() => assertWithinLimits({ spec: {} })).not.to.throw();
  });
});
