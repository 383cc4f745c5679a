import { expect } from 'chai';
import { packageOf, summarizeCpuProfile, summarizeHeapSnapshot } from '../../bench/profile-summary.js';

describe('bench profile summaries', () => {
  it('names the package of a script', () => {
    expect(packageOf('file:///w/node_modules/@kubernetes/client-node/dist/gen/models/V1Pod.js')).to.equal('@kubernetes/client-node');
    expect(packageOf('file:///w/node_modules/pino/lib/tools.js')).to.equal('pino');
    expect(packageOf('file:///w/dist/lib/cache/informer.js')).to.equal('maestro lib/cache');
    expect(packageOf('file:///w/dist/lib/index.js')).to.equal('maestro lib');
    expect(packageOf('file:///w/dist/bench/contenders/maestro.js')).to.equal('maestro bench');
    expect(packageOf('node:internal/streams/readable')).to.equal('node (built-in)');
    expect(packageOf('', '(garbage collector)')).to.equal('(garbage collector)');
  });

  it('adds up self time per package and function, leaving idle out', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
        { id: 2, callFrame: { functionName: 'parse', url: 'file:///w/node_modules/undici/lib/a.js', lineNumber: 9 } },
        { id: 3, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
      ],
      samples: [1, 2, 2, 3, 1],
      timeDeltas: [5000, 1000, 2000, 500, 9000],
    };
    const { totalMs, byPackage, byFunction, inclusive } = summarizeCpuProfile(profile);
    expect(totalMs).to.equal(3.5);
    expect(inclusive.get('undici')).to.equal(3);
    expect(byPackage.get('undici')).to.equal(3);
    expect(byPackage.get('(garbage collector)')).to.equal(0.5);
    expect(byFunction.get('parse undici/lib/a.js:10')).to.equal(3);
  });

  it('counts a package once per sample in its inclusive time, and leaves heap snapshots out', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 5] },
        { id: 2, callFrame: frame('reconcile', 'file:///w/dist/lib/controller/controller.js'), children: [3] },
        { id: 3, callFrame: frame('fetch', 'file:///w/node_modules/undici/index.js'), children: [4] },
        { id: 4, callFrame: frame('inner', 'file:///w/node_modules/undici/lib/x.js') },
        { id: 5, callFrame: frame('writeHeapSnapshot', 'node:v8') },
      ],
      samples: [4, 3, 2, 5],
      timeDeltas: [1000, 1000, 1000, 7000],
    };
    const { totalMs, inclusive, byPackage } = summarizeCpuProfile(profile);
    expect(totalMs).to.equal(3);
    expect(inclusive.get('undici')).to.equal(2);
    expect(inclusive.get('maestro lib/controller')).to.equal(3);
    expect(byPackage.get('node (built-in)')).to.equal(undefined);
  });

  it('adds up self size per kind of heap object', () => {
    const snapshot = {
      snapshot: { meta: { node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'], node_types: [['hidden', 'array', 'string', 'object', 'code', 'closure']] as [string[]] } },
      strings: ['', 'V1ObjectMeta', 'hello', 'Map'],
      nodes: [
        3, 1, 1, 100, 0,
        3, 1, 3, 120, 0,
        2, 2, 5, 40, 0,
        3, 3, 7, 64, 0,
        4, 0, 9, 1000, 0,
      ],
    };
    const { totalBytes, byKind } = summarizeHeapSnapshot(snapshot);
    expect(totalBytes).to.equal(1324);
    expect(byKind.get('V1ObjectMeta')).to.deep.equal({ bytes: 220, count: 2 });
    expect(byKind.get('(strings)')).to.deep.equal({ bytes: 40, count: 1 });
    expect(byKind.get('Map')).to.deep.equal({ bytes: 64, count: 1 });
    expect(byKind.get('(code)')).to.deep.equal({ bytes: 1000, count: 1 });
  });
});
