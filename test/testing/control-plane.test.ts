import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { request } from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  ControlPlaneStartError, ControlPlaneStoppedError, controlPlaneAssets, eventually, startControlPlane,
  type ControlPlaneAssets,
} from '../../lib/testing/index.js';
import { processesMentioning, rejectionOf } from './helpers.js';

const run = promisify(execFile);


describe('testing: a dedicated control plane', () => {
  let assets: ControlPlaneAssets;

  before(async () => {
    assets = await controlPlaneAssets();
  });

  it('starts, answers /readyz, serves kubectl its version, and leaves no process or folder after stop', async () => {
    const lines: string[] = [];
    const plane = await startControlPlane({ assets, log: (l) => lines.push(l) });
    try {
      expect(plane.server).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(plane.startupMs).to.be.above(0);
      expect(lines.some((l) => l.startsWith('control plane ready in'))).to.equal(true);

      // /readyz through client-node's TLS settings: the CA is trusted, nothing is skipped.
      const opts: { ca?: unknown; cert?: unknown; key?: unknown; rejectUnauthorized?: boolean } = {};
      await plane.kubeConfig.applyToHTTPSOptions(opts);
      expect(opts.rejectUnauthorized).to.not.equal(false);
      const readyz = await new Promise<string>((resolve, reject) => {
        request(`${plane.server}/readyz`, { ...opts } as object, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => { body += c.toString(); });
          res.on('end', () => resolve(`${res.statusCode} ${body}`));
        }).on('error', reject).end();
      });
      expect(readyz).to.equal('200 ok');

      const apiserverVersion = (await run(assets.kubeApiServer, ['--version'])).stdout.trim().split(' ').at(-1);
      if (!process.env['KUBEBUILDER_ASSETS'] && !process.env['TEST_ASSET_KUBE_APISERVER']) {
        // Our own binaries: the release pinned in tools/control-plane/versions.env.
        const pinned = readFileSync(new URL('../../../tools/control-plane/versions.env', import.meta.url), 'utf8').match(/^KUBERNETES_VERSION=(\S+)/m)?.[1];
        expect(apiserverVersion).to.equal(pinned).and.to.equal('v1.36.3');
      }
      const { stdout } = await run(assets.kubectl!, ['version', '--kubeconfig', plane.kubeconfigPath]);
      expect(stdout).to.include(`Server Version: ${apiserverVersion}`);

      const running = processesMentioning(plane.dir).map((p) => p.cmdline);
      expect(running.some((c) => c.startsWith(assets.etcd))).to.equal(true);
      expect(running.some((c) => c.startsWith(assets.kubeApiServer))).to.equal(true);
    } finally {
      await plane.stop();
    }
    expect(processesMentioning(plane.dir)).to.deep.equal([]);
    expect(existsSync(plane.dir)).to.equal(false);
    await plane.stop(); // idempotent
    expect(await rejectionOf(plane.createNamespace())).to.be.instanceOf(ControlPlaneStoppedError);
  });

  it('reports a flag the API server rejects with the component, the command line and its log', async () => {
    const err = await rejectionOf(startControlPlane({ assets, apiServerFlags: { 'no-such-flag': 'x' } }));
    expect(err).to.be.instanceOf(ControlPlaneStartError);
    const start = err as ControlPlaneStartError;
    expect(start.code).to.equal('ControlPlaneStart');
    expect(start.component).to.equal('kube-apiserver');
    expect(start.reason).to.match(/exited with code \d+/);
    expect(start.command[0]).to.equal(assets.kubeApiServer);
    expect(start.commandLine).to.include('--no-such-flag=x').and.to.include('--etcd-servers=http://127.0.0.1:');
    expect(start.logTail).to.include('unknown flag: --no-such-flag');
    expect(start.logTail.split('\n').length).to.be.at.most(30);
    expect(start.message).to.include(start.commandLine).and.to.include('unknown flag: --no-such-flag');
    // Whatever did start (etcd) is gone with its folder: this plane's folder, named in its
    // command line (other planes, of tests running at the same time, come and go meanwhile).
    const certDir = start.command.find((arg) => arg.startsWith('--cert-dir='))?.slice('--cert-dir='.length);
    const dir = certDir === undefined ? undefined : dirname(certDir);
    expect(dir && dirname(dir), start.commandLine).to.equal(tmpdir());
    expect(basename(dir!)).to.match(/^maestro-envtest-/);
    expect(existsSync(dir!), `${dir} removed`).to.equal(false);
    expect(processesMentioning(dir!)).to.deep.equal([]);
  });

  it('reports a port in use as a start error whose log says so', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const err = await rejectionOf(startControlPlane({ assets, apiServerFlags: { 'secure-port': String(port) } }));
      expect(err).to.be.instanceOf(ControlPlaneStartError);
      expect((err as ControlPlaneStartError).component).to.equal('kube-apiserver');
      expect((err as ControlPlaneStartError).logTail).to.match(/address already in use/);
    } finally {
      blocker.close();
    }
  });

  it('reports a component not ready by the deadline as a start error, not a bare timeout', async () => {
    const err = await rejectionOf(startControlPlane({ assets, startTimeoutMs: 300 }));
    expect(err).to.be.instanceOf(ControlPlaneStartError);
    const start = err as ControlPlaneStartError;
    expect(start.component).to.be.oneOf(['etcd', 'kube-apiserver']);
    expect(start.reason).to.match(/^not ready after \d+ ms/);
    expect(start.commandLine).to.include(start.component === 'etcd' ? assets.etcd : assets.kubeApiServer);
  });

  it('reports a missing binary as a start error of that component', async () => {
    const missing = `${tmpdir()}/maestro-no-such-dir/etcd`;
    const err = await rejectionOf(startControlPlane({ assets: { ...assets, etcd: missing } }));
    expect(err).to.be.instanceOf(ControlPlaneStartError);
    expect((err as ControlPlaneStartError).component).to.equal('etcd');
    expect((err as ControlPlaneStartError).commandLine).to.include(missing);
    expect((err as ControlPlaneStartError).logTail).to.match(/not found|No such file/);
  });

  /** Starts a plane in a child Node process; resolves with the child and the plane's folder. */
  async function planeInChild(): Promise<{ child: ChildProcess; dir: string }> {
    const index = new URL('../../lib/testing/index.js', import.meta.url).href;
    const script = `
      import { startControlPlane } from ${JSON.stringify(index)};
      const plane = await startControlPlane({ controllerManager: true });
      console.log(JSON.stringify({ dir: plane.dir }));
      setInterval(() => {}, 60_000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the child exited early with code ${code}`)));
    }).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });
    const { dir } = JSON.parse(first) as { dir: string };
    const components = processesMentioning(dir).filter((p) => !p.cmdline.startsWith('/bin/sh'));
    expect(components.map((p) => p.cmdline.split(' ')[0])).to.have.members([assets.etcd, assets.kubeApiServer, assets.kubeControllerManager]);
    return { child, dir };
  }

  it('leaves no orphan process or folder when the Node process that started a plane is SIGKILLed', async () => {
    const { child, dir } = await planeInChild();
    try {
      child.kill('SIGKILL');
      await eventually(() => processesMentioning(dir).length === 0, { message: 'every component of the killed parent to exit' });
      await eventually(() => !existsSync(dir), { message: 'the orphaned plane folder to be removed' });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('kills its components and removes the folder at once when the Node process gets SIGTERM', async () => {
    const { child, dir } = await planeInChild();
    try {
      const exit = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      child.kill('SIGTERM');
      // The default action is kept: the process still dies of the signal.
      expect(await exit).to.equal('SIGTERM');
      expect(existsSync(dir)).to.equal(false);
      await eventually(() => processesMentioning(dir).length === 0, { message: 'the SIGKILLed components to vanish', timeoutMs: 2_000 });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
