import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

describe('npm run demo', function () {
  this.timeout(180_000);

  it('starts a local control plane, converges the sites and shows the invalid one as InvalidSpec', async () => {
    const demo = fileURLToPath(new URL('../../samples/static-site/demo.js', import.meta.url));
    const env = { ...process.env };
    delete env['KUBECONFIG'];
    const child = spawn(process.execPath, [demo], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, output).to.equal(0);
    const table = output.slice(output.indexOf('SITE '));
    expect(table).to.match(/^hello\s+True\s+Reconciled/m);
    expect(table).to.match(/^docs\s+True\s+Reconciled/m);
    expect(table).to.match(/^unpinned\s+False\s+InvalidSpec\s+-\s+spec\.image \(isPinnedImage\)/m);
    expect(output).to.contain("the API server rejected site 'too-big'");
    expect(output, 'logs stay out of the demo output').not.to.contain('"level"');
  });
});
