import { expect } from 'chai';
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import {
  createApiServerAudit, eventually, KubectlError, runKubectl, startControlPlane,
  type ApiServerAudit, type ControlPlane,
} from '../../lib/testing/index.js';
import { rejectionOf } from './helpers.js';

describe('testing: API server audit log and kubectl', function () {
  this.timeout(120_000);
  let audit: ApiServerAudit;
  let plane: ControlPlane;
  before(async () => {
    audit = await createApiServerAudit();
    plane = await startControlPlane({ apiServerFlags: { ...audit.apiServerFlags } });
  });
  after(async () => {
    await plane?.stop();
    await audit?.remove();
  });

  it('records every request of a user with its verb, object, status and time', async () => {
    const ns = await plane.createNamespace('audit');
    const alice = (await plane.userKubeConfig('alice', ['system:masters'])).makeApiClient(CoreV1Api);
    const before = Date.now() - 1_000;
    await alice.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'one' } } });
    await alice.readNamespacedConfigMap({ namespace: ns, name: 'one' });
    await rejectionOf(alice.readNamespacedConfigMap({ namespace: ns, name: 'missing' }));

    const requests = await audit.requests({ user: 'alice', namespace: ns });
    expect(requests.map((r) => [r.verb, r.objectRef?.resource, r.objectRef?.name, r.responseStatus?.code])).to.deep.equal([
      ['create', 'configmaps', 'one', 201],
      ['get', 'configmaps', 'one', 200],
      ['get', 'configmaps', 'missing', 404],
    ]);
    expect(requests.every((r) => Date.parse(r.requestReceivedTimestamp) >= before)).to.equal(true);
    expect(await audit.requests({ user: 'alice', verb: ['get'], name: 'one' })).to.have.length(1);
    expect(await audit.requests({ user: 'alice', since: Date.now() + 60_000 })).to.deep.equal([]);
    expect(await audit.requests({ user: 'nobody' })).to.deep.equal([]);
  });

  it('shows an open watch as started, and once when it ended', async () => {
    const ns = await plane.createNamespace('audit-watch');
    const bob = await plane.userKubeConfig('bob', ['system:masters']);
    const controller = await new Watch(bob).watch(`/api/v1/namespaces/${ns}/configmaps`, {}, () => {}, () => {});
    const open = await eventually(async () => {
      const watches = await audit.requests({ user: 'bob', verb: 'watch', namespace: ns });
      return watches.length === 1 ? watches[0] : undefined;
    }, { message: 'the watch in the audit log' });
    expect(open.stage).to.equal('ResponseStarted');
    controller.abort();
    const closed = await eventually(async () => {
      const watches = await audit.requests({ user: 'bob', verb: 'watch', namespace: ns });
      return watches.length === 1 && watches[0]!.stage === 'ResponseComplete' ? watches[0] : undefined;
    }, { message: 'the watch completed in the audit log' });
    expect(closed.auditID).to.equal(open.auditID);
  });

  it('runs kubectl against the plane: input on stdin, output, typed failures', async () => {
    const ns = await plane.createNamespace('kubectl');
    // Nested far deeper than typical client libraries like: kubectl (Go) takes it.
    let nested: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 200; i++) nested = { n: nested };
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-stdin', namespace: ns }, data: { nested: JSON.stringify(nested) } };
    const created = await runKubectl(['create', '-f', '-', '-o', 'name'], { kubeconfig: plane.kubeconfigPath, input: JSON.stringify(configMap) });
    expect(created.stdout.trim()).to.equal('configmap/from-stdin');

    const read = await runKubectl(['get', 'configmap', 'from-stdin', '-n', ns, '-o', 'json'], { kubeconfig: plane.kubeConfig });
    expect((JSON.parse(read.stdout) as { data: Record<string, string> }).data.nested).to.equal(JSON.stringify(nested));

    const missing = await rejectionOf(runKubectl(['get', 'configmap', 'absent', '-n', ns], { kubeconfig: plane.kubeconfigPath }));
    expect(missing).to.be.instanceOf(KubectlError);
    expect((missing as KubectlError).result.code).to.equal(1);
    expect((missing as KubectlError).stderr).to.match(/NotFound|not found/);
    const unchecked = await runKubectl(['get', 'configmap', 'absent', '-n', ns], { kubeconfig: plane.kubeconfigPath, check: false });
    expect(unchecked.code).to.equal(1);

    const noBinary = await rejectionOf(runKubectl(['version'], { kubeconfig: plane.kubeconfigPath, binary: '/nonexistent/kubectl' }));
    expect((noBinary as KubectlError).message).to.match(/cannot run \/nonexistent\/kubectl/);
  });
});
