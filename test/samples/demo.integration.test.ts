import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { sharedControlPlane } from '../support/control-plane.js';

/** Runs the demo with `env`; resolves with its exit code and output. */
function runDemo(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const demo = fileURLToPath(new URL('../../samples/static-site/demo.js', import.meta.url));
  const child = spawn(process.execPath, [demo], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('npm run demo', function () {
  this.timeout(180_000);

  it('uses the cluster of KUBECONFIG when it is set, and removes what it created there', async () => {
    const plane = await sharedControlPlane();
    const { code, output } = await runDemo({ ...process.env, KUBECONFIG: plane.kubeconfigPath });
    expect(code, output).to.equal(0);
    expect(output).to.contain(`using the cluster of KUBECONFIG (${plane.server})`);
    expect(output).not.to.contain('starting a local control plane');
    // The shared plane has nodes: the whole life, Pods included.
    expect(output).to.contain('hello: Available=True (3/3 replicas available)');
    expect(output).to.match(/^docs\s+True\s+Reconciled\s+True/m);
    expect(output).to.match(/^unpinned\s+False\s+InvalidSpec/m);
    const namespace = /removed namespace (\S+)/.exec(output)?.[1];
    expect(namespace, output).to.be.a('string');
    const phase = await plane.kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: namespace! }).then((ns) => ns.status?.phase, () => 'gone');
    expect(['Terminating', 'gone']).to.include(phase);
  });

  it('starts a local control plane with nodes and walks through a site\'s whole life', async () => {
    const env = { ...process.env };
    delete env['KUBECONFIG'];
    const { code, output } = await runDemo(env);
    expect(code, output).to.equal(0);
    for (const heading of ['1. Create', '2. Scale: replicas 2 → 3', '3. Self-heal: delete a child by hand', '4. A shared theme, watched', '5. Delete', 'The sites now']) {
      expect(output).to.contain(`\n${heading}\n`);
    }
    expect(output).to.match(/site too-big \(50 replicas\) rejected by the API server, from the CRD schema \(@Max\(10\)\): .*spec\.replicas/);
    // The local API server calls the operator's validating webhook: the policy refuses at create.
    expect(output).to.match(/site unpinned \(image 'nginx': no tag\) refused by the operator's validating webhook: spec\.image \(isPinnedImage\): image must pin a tag/);
    expect(output).not.to.contain('unpinned: Ready=False');
    expect(output).to.contain('hello: Available=True (2/2 replicas available)');
    expect(output).to.contain('hello: Available=True (3/3 replicas available)');
    expect(output).to.match(/the operator recreated Deployment hello/);
    expect(output).to.contain('hello and docs name theme house (spec.themeRef), not there yet: Themed=False ThemeNotFound');
    expect(output).to.contain('both re-rendered, Themed=True').and.contain('both re-rendered with the edited theme');
    expect(output).to.contain('docs: Pods rolled to the themed page');
    expect(output).to.contain('the directory no longer lists hello');
    expect(output).to.contain('garbage-collected (owner references)');
    const table = output.slice(output.indexOf('SITE '));
    expect(table).to.match(/^docs\s+True\s+Reconciled\s+True\s+1\/1 replicas available$/m);
    expect(table, 'a refused site is never stored').not.to.match(/^unpinned/m);
    expect(output, 'logs stay out of the demo output').not.to.contain('"level"');
    console.log(`      (${/Done in \S+ s/.exec(output)?.[0]})`);
  });
});
