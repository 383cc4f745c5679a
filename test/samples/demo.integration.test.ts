import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

  it('uses the cluster of KUBECONFIG when it is set', async () => {
    const plane = await sharedControlPlane();
    const { code, output } = await runDemo({ ...process.env, KUBECONFIG: plane.kubeconfigPath });
    expect(code, output).to.equal(0);
    expect(output).to.contain(`using the cluster of KUBECONFIG (${plane.server})`);
    expect(output).not.to.contain('starting a local control plane');
    expect(output).to.match(/^unpinned\s+False\s+InvalidSpec/m);
  });

  it('starts a local control plane, converges the sites and shows the invalid one as InvalidSpec', async () => {
    const env = { ...process.env };
    delete env['KUBECONFIG'];
    const { code, output } = await runDemo(env);
    expect(code, output).to.equal(0);
    const table = output.slice(output.indexOf('SITE '));
    expect(table).to.match(/^hello\s+True\s+Reconciled/m);
    expect(table).to.match(/^docs\s+True\s+Reconciled/m);
    expect(table).to.match(/^unpinned\s+False\s+InvalidSpec\s+-\s+spec\.image \(isPinnedImage\)/m);
    expect(output).to.contain("the API server rejected site 'too-big'");
    expect(output, 'logs stay out of the demo output').not.to.contain('"level"');
  });
});
