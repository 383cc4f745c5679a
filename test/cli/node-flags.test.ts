// The Node flags Maestro's operators run with are the same wherever an operator starts:
// the sample's image, the scaffold's `npm start`, and the benchmark's Maestro contender
// (which must measure the operator as it is deployed).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CONTENDERS, contenderNodeFlags } from '../../bench/convergence.js';
import { OPERATOR_NODE_FLAGS } from '../../lib/cli/node-flags.js';
import { packageJson } from '../../lib/cli/templates.js';

const file = (path: string) => readFile(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

const script = 'function add(a, b) { return a + b; } add(1, 2);';

/** Code V8 cached for `script` in a process started with `flags`. */
const cachedBy = (flags: readonly string[]) => execFileSync(process.execPath, [...flags, '-e',
  `process.stdout.write(new (require('node:vm').Script)(${JSON.stringify(script)}).createCachedData().toString('base64'))`], { encoding: 'utf8' });

/** Whether a process started with `flags` takes `data` (V8 takes cached code only under the flags that made it, heap sizes aside). */
const takenUnder = (flags: readonly string[], data: string) => execFileSync(process.execPath, [...flags, '-e',
  `process.stdout.write(String(!new (require('node:vm').Script)(${JSON.stringify(script)}, { cachedData: Buffer.from('${data}', 'base64') }).cachedDataRejected))`], { encoding: 'utf8' }) === 'true';

describe('the Node flags operators run with', () => {
  it('bound the young generation (V8 sizes it only at start, so it is a command-line flag)', () => {
    expect(OPERATOR_NODE_FLAGS).to.deep.equal(['--max-semi-space-size=4']);
  });

  it('change no code V8 generates: V8 takes code cached without flags, as Node\u2019s cache of its own modules is (--optimize-for-size would not)', () => {
    const plain = cachedBy([]);
    expect(takenUnder(OPERATOR_NODE_FLAGS, plain), OPERATOR_NODE_FLAGS.join(' ')).to.equal(true);
    expect(takenUnder(['--optimize-for-size'], plain), 'the check tells such flags apart').to.equal(false);
  });

  it("are in the sample image's ENTRYPOINT, before the script", async () => {
    const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(await file('samples/static-site/Dockerfile'))?.[1];
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
