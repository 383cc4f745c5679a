import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import {
  eventually, OperatorProcessExitedError, startOperatorProcess, WaitTimeoutError, type OperatorProcess,
} from '../../lib/testing/index.js';
import { rejectionOf } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/process-fixture.js', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('testing: operator process runner', function () {
  this.timeout(30_000);
  const started: OperatorProcess[] = [];
  const start = async (env: Record<string, string | undefined>, extra: { kubeConfig?: KubeConfig | string; args?: string[] } = {}) => {
    const proc = await startOperatorProcess({ module: fixture, env, ...extra });
    started.push(proc);
    return proc;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop(2_000)));
  });

  it('reports the exit code, and collects JSON and plain output lines', async () => {
    const proc = await start({ FIXTURE_MODE: 'exit', FIXTURE_CODE: '3' }, { args: ['--flag', 'value'] });
    const exit = await proc.exited;
    expect(exit).to.include({ code: 3, signal: null });
    expect(proc.running).to.equal(false);
    expect(proc.exit).to.equal(exit);
    const hello = proc.logs({ msg: 'hello' });
    expect(hello).to.have.length(1);
    expect(hello[0]).to.include({ pid: proc.pid });
    expect(hello[0]!['args']).to.deep.equal(['--flag', 'value']);
    expect(proc.lines.find((l) => l.stream === 'stderr')).to.include({ text: 'plain text on stderr' });
    expect(proc.lines.find((l) => l.stream === 'stderr')?.json).to.equal(undefined);
    expect(proc.kill()).to.equal(false);
  });

  it('writes a KubeConfig to a private file for the process and removes it afterwards', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }],
      users: [{ name: 'u', token: 'secret' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    const proc = await start({ FIXTURE_MODE: 'exit' }, { kubeConfig: kc });
    const hello = await proc.waitForLog({ msg: 'hello' });
    expect(hello['server']).to.equal('https://127.0.0.1:1');
    const file = hello['kubeconfig'] as string;
    await proc.exited;
    expect(existsSync(file), 'the kubeconfig file is removed').to.equal(false);

    const byPath = await start({ FIXTURE_MODE: 'exit' }, { kubeConfig: '/nonexistent/kubeconfig' });
    await byPath.exited;
    expect(byPath.lines.map((l) => l.text).join('\n')).to.match(/nonexistent/);
  });

  it('delivers SIGTERM, and stop() escalates to SIGKILL when the process ignores it', async () => {
    const polite = await start({ FIXTURE_MODE: 'serve', FIXTURE_TERM_CODE: '7' });
    await polite.waitForLog({ msg: 'ready' });
    expect(polite.kill('SIGTERM')).to.equal(true);
    expect(await polite.waitForExit(10_000)).to.include({ code: 7, signal: null });
    expect(polite.logs({ msg: 'terminating' })).to.have.length(1);

    const stubborn = await start({ FIXTURE_MODE: 'serve', FIXTURE_IGNORE_TERM: '1' });
    await stubborn.waitForLog({ msg: 'ready' });
    const began = Date.now();
    const exit = await stubborn.stop(500);
    expect(exit).to.include({ code: null, signal: 'SIGKILL' });
    expect(exit.at - began).to.be.at.least(500);
    expect(stubborn.logs({ msg: 'ignoring SIGTERM' })).to.have.length(1);
  });

  it('rejects a wait for a log line when the process exits first, or at the deadline', async () => {
    const quitter = await start({ FIXTURE_MODE: 'exit', FIXTURE_CODE: '1' });
    const err = await rejectionOf(quitter.waitForLog({ msg: 'never written' }));
    expect(err).to.be.instanceOf(OperatorProcessExitedError);
    expect((err as OperatorProcessExitedError).exit.code).to.equal(1);
    expect((err as OperatorProcessExitedError).outputTail).to.contain('plain text on stderr');

    const server = await start({ FIXTURE_MODE: 'serve' });
    const timeout = await rejectionOf(server.waitForLog((line) => line['msg'] === 'never written', { timeoutMs: 300 }));
    expect(timeout).to.be.instanceOf(WaitTimeoutError);
    expect(await rejectionOf(server.waitForExit(200))).to.be.instanceOf(WaitTimeoutError);
  });

  it('kills its processes when the test process dies without stopping them', async () => {
    // A parent that starts a child through the runner; SIGKILL the parent: the child must die too.
    const parent = await start({ FIXTURE_MODE: 'spawn' });
    const spawned = await parent.waitForLog({ msg: 'spawned' });
    const child = spawned['child'] as number;
    expect(alive(child)).to.equal(true);
    parent.kill('SIGKILL');
    expect((await parent.exited).signal).to.equal('SIGKILL');
    await eventually(() => !alive(child), { timeoutMs: 10_000, message: `the orphaned child ${child} to die` });
  });
});
