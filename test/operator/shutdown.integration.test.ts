import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { Widgets } from '../support/operators.js';
import { eventually } from '../support/wait.js';
import { widget, widgetCRD } from '../support/widget-operator.js';

describe('Operator shutdown', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  before(async () => {
    plane = await sharedControlPlane();
    await plane.installCRDs([widgetCRD()]);
  });

  it('on SIGTERM finishes the reconcile in flight, releases the Lease and exits 0', async () => {
    const ns = await plane.createNamespace('sigterm');
    const widgets = new Widgets(plane.kubeConfig, ns);
    const core = plane.kubeConfig.makeApiClient(CoreV1Api);
    const main = fileURLToPath(new URL('../support/widget-operator-main.js', import.meta.url));
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, KUBECONFIG: plane.kubeconfigPath, NAMESPACE: ns, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await eventually(() => output.includes('"operator started"'), { message: `operator started (output: ${output})` });
      await widgets.create(widget(ns, 'slow', { message: 'slow', delayMs: 2500 }));
      // The ConfigMap comes from the first step; the slow step is running now.
      await eventually(() => core.readNamespacedConfigMap({ name: 'slow', namespace: ns }), { message: 'reconcile in flight' });
      expect(widgets.ready(await widgets.get('slow'))).to.equal(undefined);
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const done = await widgets.get('slow');
    expect(widgets.ready(done)?.status, `the reconcile in flight completed (log: ${output})`).to.equal('True');
    const lease = await plane.kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'widget-operator', namespace: ns });
    expect(lease.spec?.holderIdentity ?? '').to.equal('');
    expect(output).to.contain('"operator stopped"');
  });
});
