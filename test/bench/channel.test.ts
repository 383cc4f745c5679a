// The harness's channel to a Node contender (bench/children.ts spawnNodeContender and
// bench/contender.ts serve): JSON lines on the contender's stdin and fd 3, its stdout left
// to its log; run with a stub operator, no API server.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { ContenderProcess, exited, spawnNodeContender } from '../../bench/children.js';

const stub = fileURLToPath(new URL('fixtures/stub-contender.js', import.meta.url));
const counter = fileURLToPath(new URL('../../bench/count-requests.cjs', import.meta.url));
const start = () => spawnNodeContender({ module: stub, label: 'stub', execArgv: ['--require', counter], env: { KUBECONFIG: '/nonexistent', BENCH_NAMESPACE: 'ns' } });

describe('bench: the channel to a Node contender', function () {
  this.timeout(30_000);

  it('reads ready, snapshot and final from the channel, not from a log line on stdout shaped like one, and the contender exits when told', async () => {
    const child = start();
    const contender = new ContenderProcess(child, 'stub', 20_000);
    try {
      const ready = await contender.ready;
      expect(ready.reconciles, 'the ready message, not the log line').to.equal(1);
      expect(ready.proc.cpuS, 'its /proc read by the harness').to.be.a('number');
      expect((await contender.snapshot()).reconciles).to.equal(1);
      expect((await contender.snapshot(true)).heapUsedBytes, 'after a full GC').to.be.above(0);
      const final = await contender.stop();
      expect(final.reconciles, 'counted after its operator stopped').to.equal(7);
      expect(await exited(child)).to.equal('0');
    } finally {
      contender.kill();
    }
  });

  it('exits when the harness closes its stdin (the harness went away)', async () => {
    const child = start();
    const contender = new ContenderProcess(child, 'stub', 20_000);
    try {
      await contender.ready;
      child.stdin!.end();
      expect(await exited(child)).to.equal('0');
    } finally {
      contender.kill();
    }
  });
});
