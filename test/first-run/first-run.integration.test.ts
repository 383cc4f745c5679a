// The first hour on a fresh machine: no control plane binaries cached yet. Every entry point
// (npm run demo, npm test, npm run bench, maestro-operator envtest, startControlPlane(); the
// scaffold's npm test is in test/cli) finds or builds the binaries the same way. Go's own
// caches stay warm, so a build here costs a relink, not the full 10 minutes.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ControlPlaneAssetsError, startControlPlane } from '../../lib/testing/index.js';
import { rejectionOf } from '../testing/helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dist = (path: string): string => join(root, 'dist', path);

/** The variables that would point the entry points at existing binaries or a cluster. */
const PRESET = ['KUBECONFIG', 'KUBEBUILDER_ASSETS', 'TEST_ASSET_KUBE_APISERVER', 'TEST_ASSET_ETCD', 'TEST_ASSET_KUBE_CONTROLLER_MANAGER',
  'TEST_ASSET_KUBE_SCHEDULER', 'TEST_ASSET_KWOK', 'TEST_ASSET_KUBECTL', 'MAESTRO_GO', 'MAESTRO_CACHE_DIR'];

/** A machine's environment with an empty binaries cache (and this Node first in PATH), without our npm script context. */
function freshEnv(cache: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}` };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') || PRESET.includes(key)) delete env[key];
  return { ...env, MAESTRO_CACHE_DIR: cache, ...extra };
}

interface Run { code: number | null; output: string; stdout: string; seconds: number }

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('close', (code) => resolve({ code, output, stdout, seconds: (performance.now() - started) / 1000 }));
  });
}

/** The binaries in a cache root's control-plane folder. */
async function cachedBinaries(cache: string): Promise<string[]> {
  const base = join(cache, 'control-plane');
  if (!existsSync(base)) return [];
  const folders = (await readdir(base)).filter((f) => f.startsWith('kubernetes-') && !f.includes('.partial.'));
  if (folders.length === 0) return [];
  return (await readdir(join(base, folders[0]!))).filter((f) => !f.startsWith('.')).sort();
}

/** A copy of the working tree as a fresh clone has it: tracked and new files, nothing ignored (no node_modules, dist, .tools). */
async function freshCopy(into: string): Promise<void> {
  const { stdout } = await promisify(execFile)('git', ['-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { maxBuffer: 64 * 1024 * 1024 });
  for (const file of stdout.split('\0').filter(Boolean)) {
    const source = join(root, file);
    if (!existsSync(source)) continue; // deleted in the working tree
    await mkdir(dirname(join(into, file)), { recursive: true });
    await copyFile(source, join(into, file));
    await chmod(join(into, file), (await stat(source)).mode);
  }
}

const GO_MISSING = /Go is not installed: the local control plane .* is built from source once per machine, which needs Go 1\.\d+(\.\d+)? or newer \(MAESTRO_GO=\/nonexistent\/go is not an executable\)\. Install it from https:\/\/go\.dev\/dl\//;

describe('first run: no control plane binaries cached yet', function () {
  this.timeout(20 * 60_000);
  const temps: string[] = [];
  const temp = async (prefix: string): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    temps.push(dir);
    return dir;
  };
  after(async () => {
    for (const dir of temps) await rm(dir, { recursive: true, force: true });
  });

  it('npm run demo in a fresh copy builds what it needs into an empty cache, then walks through a site\'s whole life', async () => {
    const copy = await temp('maestro-fresh-');
    await freshCopy(copy);
    expect(existsSync(join(copy, 'node_modules')) || existsSync(join(copy, 'dist'))).to.equal(false);
    const cache = await temp('maestro-cache-');
    const demo = await run('npm', ['run', 'demo'], copy, freshEnv(cache));
    console.log(`      (npm run demo in a fresh copy, empty binaries cache, warm Go caches: ${demo.seconds.toFixed(0)} s; ${/control plane binaries built in \S+/.exec(demo.output)?.[0] ?? ''}; ${/Done in \S+ s/.exec(demo.output)?.[0] ?? ''})`);
    expect(demo.code, demo.output).to.equal(0);
    // One set-up path with one progress display: what is built, phase by phase, no Go noise.
    expect(demo.output).to.contain('installing dependencies (npm ci)');
    expect(demo.output).to.match(/building etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok \(Kubernetes v1\.\d+\.\d+, etcd v3\.\d+\.\d+, kwok v\d+\.\d+\.\d+\)/);
    expect(demo.output).to.match(/built etcd in \d+:\d\d/);
    expect(demo.output).to.match(/built kube-apiserver, kube-controller-manager, kube-scheduler, kwok in \d+:\d\d/);
    expect(demo.output).to.match(/control plane binaries built in \d+:\d\d/);
    expect(demo.output).not.to.contain('go: downloading');
    expect(await cachedBinaries(cache), 'only what the demo needs').to.deep.equal(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']);
    // The walk through a site's life.
    const out = demo.stdout;
    expect(out).to.contain('starting a local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, 2 nodes (kwok)');
    expect(out).to.match(/site too-big \(50 replicas\) rejected by the API server, from the CRD schema \(@Max\(10\)\): .*spec\.replicas/);
    // The local API server calls the operator's validating webhook: the policy refuses at create.
    expect(out).to.match(/site unpinned \(image 'nginx': no tag\) refused by the operator's validating webhook: spec\.image \(isPinnedImage\): image must pin a tag/);
    expect(out).not.to.contain('unpinned: Ready=False');
    expect(out).to.contain('hello: Available=True (2/2 replicas available)');
    expect(out).to.contain('hello: spec.replicas set to 3');
    expect(out).to.contain('hello: Available=True (3/3 replicas available)');
    expect(out).to.match(/the operator recreated Deployment hello \(uid \w+…\)/);
    expect(out).to.contain('finalizer sites.maestro.dev/registration ran: the directory no longer lists hello');
    expect(out).to.contain('ConfigMap hello-content, Deployment hello and Service hello garbage-collected');
    expect(out).to.match(/^docs\s+True\s+Reconciled\s+True\s+1\/1 replicas available$/m);
    expect(out.slice(out.indexOf('SITE ')), 'a refused site is never stored').not.to.match(/^unpinned/m);
    expect(demo.output, 'logs stay out of the demo output').not.to.contain('"level"');
  });

  describe('with no Go either, every entry point stops with one message naming what to install', () => {
    let cache: string;
    let env: NodeJS.ProcessEnv;
    before(async () => {
      cache = await temp('maestro-cache-');
      env = freshEnv(cache, { MAESTRO_GO: '/nonexistent/go' });
    });
    afterEach(async () => {
      expect(await cachedBinaries(cache), 'nothing was built').to.deep.equal([]);
    });

    it('npm run demo', async () => {
      const demo = await run(process.execPath, [dist('samples/static-site/demo.js')], root, env);
      expect(demo.code).to.equal(1);
      expect(demo.output).to.match(new RegExp(`demo failed: ${GO_MISSING.source}`));
    });

    it("npm test (mocha's global setup), and the integration tests after it", async () => {
      const mocha = await run(process.execPath, [join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), '--no-config', '--require', dist('test/hooks.js'), dist('test/testing/crds.test.js')], root, env);
      expect(mocha.code).to.not.equal(0);
      expect(mocha.output).to.match(new RegExp(`control plane binaries unavailable; integration tests will fail: ${GO_MISSING.source}`));
      expect(mocha.output).to.match(/failing/);
    });

    it('npm run bench', async () => {
      const bench = await run(process.execPath, [dist('bench/run.js'), '--only', 'cache', '--rounds', '1', '--cache-objects', '1'], root, env);
      expect(bench.code).to.equal(1);
      expect(bench.output).to.match(GO_MISSING);
    });

    it('maestro-operator envtest; --print builds nothing and says how to build', async () => {
      const build = await run(process.execPath, [dist('lib/cli/main.js'), 'envtest'], root, env);
      expect(build.code).to.equal(1);
      expect(build.output).to.match(new RegExp(`^maestro-operator: ${GO_MISSING.source}`, 'm'));
      expect(build.stdout).to.equal('');
      const print = await run(process.execPath, [dist('lib/cli/main.js'), 'envtest', '--print'], root, env);
      expect(print.code).to.equal(1);
      expect(print.output).to.contain("not built yet in").and.to.contain("run 'maestro-operator envtest' to build them");
    });

    it("a user's startControlPlane()", async () => {
      const saved = Object.fromEntries(PRESET.map((k) => [k, process.env[k]]));
      try {
        for (const key of PRESET) delete process.env[key];
        Object.assign(process.env, { MAESTRO_CACHE_DIR: cache, MAESTRO_GO: '/nonexistent/go' });
        const err = await rejectionOf(startControlPlane());
        expect(err).to.be.instanceOf(ControlPlaneAssetsError);
        expect((err as Error).message).to.match(GO_MISSING);
      } finally {
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      }
    });
  });

  it('maestro-operator envtest builds into an empty cache and prints the folder for KUBEBUILDER_ASSETS', async () => {
    const cache = await temp('maestro-cache-');
    const env = freshEnv(cache);
    const built = await run(process.execPath, [dist('lib/cli/main.js'), 'envtest', '--binaries', 'etcd'], root, env);
    expect(built.code, built.output).to.equal(0);
    const folder = built.stdout.trim();
    expect(folder.startsWith(join(cache, 'control-plane', 'kubernetes-'))).to.equal(true);
    expect(built.output).to.match(/building etcd \(Kubernetes/);
    expect(await cachedBinaries(cache)).to.deep.equal(['etcd']);
    const version = await run(join(folder, 'etcd'), ['--version'], root, env);
    expect(version.stdout).to.match(/etcd Version: 3\.\d+\.\d+/);
    const print = await run(process.execPath, [dist('lib/cli/main.js'), 'envtest', '--print', '--binaries', 'etcd'], root, env);
    expect(print.code, print.output).to.equal(0);
    expect(print.stdout.trim()).to.equal(folder);
    expect(print.output).not.to.contain('building');
  });
});
