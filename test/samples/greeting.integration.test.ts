// The README's example is a sample: the README shows it verbatim, and it works.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { generateCRD } from '../../lib/generate/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { Greeting, GreetingReconciler } from '../../samples/greeting/greeting.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { startOperator, stopOperators } from '../support/operators.js';
import { rejectionOf, statusOf } from '../support/service-account.js';
import { eventually } from '../support/wait.js';

const source = (path: string) => readFile(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

describe('samples/greeting (the README example)', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  before(async () => { plane = await sharedControlPlane(); });
  after(() => stopOperators());

  it('appears in the README verbatim', async () => {
    const readme = await source('README.md');
    expect(readme).to.contain(await source('samples/greeting/greeting.ts'));
    expect(readme).to.contain(await source('samples/greeting/main.ts'));
  });

  it('applies the ConfigMap, reports Ready, and its CRD schema rejects too many copies', async () => {
    await plane.installCRDs([generateCRD(Greeting)]);
    const namespace = await plane.createNamespace('greeting');
    await startOperator(plane.kubeConfig, { name: 'greeting-operator', reconcilers: [GreetingReconciler], namespaces: [namespace] });
    const api = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
    const greeting = (name: string, copies: number) =>
      ({ apiVersion: 'example.com/v1', kind: 'Greeting', metadata: { name, namespace }, spec: { message: 'hi ', copies } });
    await api.create(greeting('hello', 3));
    const cm = await eventually(() => plane.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'hello', namespace }));
    expect(cm.data).to.deep.equal({ text: 'hi hi hi ' });
    await eventually(async () => {
      const current = (await api.read(greeting('hello', 3))) as { status?: { conditions?: Array<{ type: string; status: string }> } };
      return current.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    }, { message: 'Ready' });
    expect(statusOf(await rejectionOf(api.create(greeting('loud', 9))))).to.equal(422);
  });
});
