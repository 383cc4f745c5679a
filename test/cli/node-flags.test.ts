// The Node flags Maestro's operators run with are the same wherever an operator starts:
// the sample's image, the scaffold's `npm start`, and the benchmark's Maestro contender
// (which must measure the operator as it is deployed).
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CONTENDERS, contenderNodeFlags } from '../../bench/convergence.js';
import { OPERATOR_NODE_FLAGS } from '../../lib/cli/node-flags.js';
import { packageJson } from '../../lib/cli/templates.js';

const source = (path: string) => readFile(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

describe('the Node flags operators run with', () => {
  it('bound the young generation and favour memory over speed (V8 reads them only at start, so they are command-line flags)', () => {
    expect(OPERATOR_NODE_FLAGS).to.deep.equal(['--max-semi-space-size=8', '--optimize-for-size']);
  });

  it("are in the sample image's ENTRYPOINT, before the script", async () => {
    const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(await source('samples/static-site/Dockerfile'))?.[1];
    expect(JSON.parse(entrypoint ?? '[]')).to.deep.equal(['node', ...OPERATOR_NODE_FLAGS, 'dist/bundle/main.mjs']);
  });

  it("are in the scaffold's npm start", () => {
    const pkg = JSON.parse(packageJson({ packageName: 'p', operatorName: 'o', maestroSpec: '^0.1.0', versions: {} })) as { scripts: Record<string, string> };
    expect(pkg.scripts['start']).to.equal(`node ${OPERATOR_NODE_FLAGS.join(' ')} dist/src/main.js`);
  });

  it("are given to the benchmark's Maestro contender, and to no other", () => {
    expect(contenderNodeFlags('maestro')).to.deep.equal([...OPERATOR_NODE_FLAGS]);
    for (const other of CONTENDERS.filter((c) => c !== 'maestro')) expect(contenderNodeFlags(other), other).to.deep.equal([]);
  });
});
