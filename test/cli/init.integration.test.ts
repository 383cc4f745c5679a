import { expect } from 'chai';
import { loadAllYaml, loadYaml, type KubernetesObject, type V1CustomResourceDefinition, type V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { runCli } from '../support/cli.js';

/** Variables that would point the project's tests at existing binaries. */
const PRESET = ['KUBEBUILDER_ASSETS', 'TEST_ASSET_KUBE_APISERVER', 'TEST_ASSET_ETCD', 'TEST_ASSET_KUBE_CONTROLLER_MANAGER', 'TEST_ASSET_KUBECTL'];

/** Runs npm in `cwd` with this Node first in PATH; resolves with the exit code and output. */
function npm(args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`, ...extra };
    // Our own npm script context must not leak into the project's commands.
    for (const key of Object.keys(env)) if (key.startsWith('npm_') || PRESET.includes(key)) delete env[key];
    const child = spawn('npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('maestro-operator init', function () {
  this.timeout(600_000);
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'maestro-init-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('scaffolds a project whose own npm test passes right after npm install, on a machine with no binaries cached', async () => {
    const project = join(dir, 'site-operator');
    const init = await runCli(['init', project]);
    expect(init.code, init.stderr).to.equal(0);
    expect(init.stdout).to.contain("operator 'site-operator'");
    expect((await readdir(project)).sort()).to.deep.equal(['.gitignore', '.mocharc.json', '.npmrc', 'README.md', 'package.json', 'src', 'test', 'tsconfig.json']);
    expect((await readdir(join(project, 'src'))).sort()).to.deep.equal(['main.ts', 'reconcilers.ts', 'site.ts']);
    expect((await readdir(join(project, 'test'))).sort()).to.deep.equal(['setup.ts', 'site.test.ts']);
    const main = await readFile(join(project, 'src', 'main.ts'), 'utf8');
    expect(main).to.contain("name: 'site-operator'");
    expect(main, 'the operator serves the webhooks the generated CRD and configurations call').to.match(/^\s*webhooks: \{\},/m);

    const install = await npm(['install', '--no-audit', '--no-fund'], project);
    expect(install.code, install.output).to.equal(0);
    // An empty binaries cache: the project's own test setup builds kube-apiserver and etcd
    // (Go's caches are warm here, so it is a relink), with Maestro's progress display.
    const cache = join(dir, 'cache');
    const test = await npm(['test'], project, { MAESTRO_CACHE_DIR: cache });
    expect(test.code, test.output).to.equal(0);
    expect(test.output).to.match(/building etcd, kube-apiserver \(Kubernetes v1\.\d+\.\d+, etcd v3\.\d+\.\d+\)/);
    expect(test.output).not.to.contain('go: downloading');
    expect(test.output).to.match(/4 passing/);
    const folder = (await readdir(join(cache, 'control-plane'))).find((f) => f.startsWith('kubernetes-'))!;
    expect((await readdir(join(cache, 'control-plane', folder))).filter((f) => !f.startsWith('.')).sort()).to.deep.equal(['etcd', 'kube-apiserver']);
    // Once built, the next run finds them.
    const again = await npm(['test'], project, { MAESTRO_CACHE_DIR: cache });
    expect(again.code, again.output).to.equal(0);
    expect(again.output).not.to.contain('building');

    const crd = await npm(['run', 'generate:crd'], project);
    expect(crd.code, crd.output).to.equal(0);
    const crdDoc = loadYaml<V1CustomResourceDefinition>(await readFile(join(project, 'deploy', 'crd.yaml'), 'utf8'));
    expect(crdDoc.metadata?.name).to.equal('staticsites.sites.maestro.dev');
    // The conversion webhook and the admission webhooks call the one Service generate:webhooks writes.
    const service = { name: 'site-operator-webhook', namespace: 'site-operator' };
    expect(crdDoc.spec.conversion?.webhook?.clientConfig?.service).to.include(service);
    const webhooks = await npm(['run', 'generate:webhooks'], project);
    expect(webhooks.code, webhooks.output).to.equal(0);
    const docs = loadAllYaml(await readFile(join(project, 'deploy', 'webhooks.yaml'), 'utf8')) as KubernetesObject[];
    expect(docs.some((d) => d.kind === 'Service' && d.metadata?.name === service.name && d.metadata.namespace === service.namespace), 'the webhook Service').to.equal(true);
    const configurations = docs.filter((d) => d.kind === 'ValidatingWebhookConfiguration' || d.kind === 'MutatingWebhookConfiguration') as V1ValidatingWebhookConfiguration[];
    expect(configurations.map((c) => c.metadata?.name).sort()).to.deep.equal(['site-operator-mutating', 'site-operator-validating']);
    for (const c of configurations) for (const w of c.webhooks ?? []) expect(w.clientConfig.service).to.include(service);
    // The image's form: maestro-operator bundle, from the installed package.
    const bundled = await npm(['run', 'bundle'], project);
    expect(bundled.code, bundled.output).to.equal(0);
    expect(bundled.output).to.match(/wrote dist\/bundle\/main\.code\.mjs .*compile cache; run dist\/bundle\/main\.mjs/);
    // With what Maestro loads on first use beside it: undici's root, @peculiar/x509, undici's HTTP/1.1 parsers.
    expect((await readdir(join(project, 'dist', 'bundle'))).sort()).to.deep.equal([
      'compile-cache', 'main.code.mjs', 'main.code.mjs.map', 'main.mjs',
      'main.undici-llhttp-llhttp-wasm.cjs', 'main.undici-llhttp-llhttp_simd-wasm.cjs', 'main.undici-milo-no-simd.cjs', 'main.undici-milo-simd.cjs',
      'main.undici.mjs', 'main.undici.mjs.map', 'main.x509.mjs', 'main.x509.mjs.map',
    ]);
  });
});
