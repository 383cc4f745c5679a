// What an operator loads is what it uses: the X.509 library (about 15 MiB of RSS and 0.2 s
// of CPU at start) only when a certificate is generated. Checked in a fresh Node process
// whose module resolution is recorded (node:module registerHooks).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const url = (path: string) => new URL(path, import.meta.url).href;

/** Runs `body` (an ES module) in a fresh process after registering a hook that records every resolved URL in `loaded`. */
async function inFreshProcess(body: string): Promise<Record<string, unknown>> {
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); loaded.push(result.url); return result; } });
    const x509Loaded = () => loaded.some((u) => u.includes('/@peculiar/x509/'));
    ${body}`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe('module loading: an operator loads what it uses', function () {
  this.timeout(90_000);

  it('imports no X.509 library with the package, an operator or a mounted certificate; loads it when it generates one', async () => {
    const result = await inFreshProcess(`
      await import('reflect-metadata');
      const { KubeConfig } = await import('@kubernetes/client-node');
      const { createOperator } = await import(${JSON.stringify(url('../../lib/index.js'))});
      const server = await import(${JSON.stringify(url('../../lib/server/index.js'))});
      const { GreetingReconciler } = await import(${JSON.stringify(url('../../samples/greeting/greeting.js'))});
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
      // Never started: no API server here. Its servers with a mounted certificate, as in a pod with cert-manager.
      createOperator({ name: 'lazy', reconcilers: [GreetingReconciler], kubeConfig, server: { tls: { certDir: '/nonexistent' } } });
      const atImport = x509Loaded();
      const { certPem } = await server.selfSignedCertificate(['lazy.example']);
      console.log(JSON.stringify({ atImport, afterGenerating: x509Loaded(), pem: certPem.startsWith('-----BEGIN CERTIFICATE-----') }));
    `);
    expect(result).to.deep.equal({ atImport: false, afterGenerating: true, pem: true });
  });
});
