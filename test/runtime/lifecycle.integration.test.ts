// How an operator's process lives and ends: start() fails clearly when the Lease is forbidden,
// a started operator keeps the process alive (also without its HTTP server), and the process
// guard survives errors nobody handled.
import 'reflect-metadata';
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { createServer, type AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { createOperator, type Operator } from '../../lib/index.js';
import { OperatorStartError } from '../../lib/runtime/index.js';
import { startOperatorProcess, type ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { testLogger } from '../support/operators.js';
import { widgetCRD, widgetReconcilers } from '../support/widget-operator.js';

const main = fileURLToPath(new URL('../support/lifecycle-main.js', import.meta.url));

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('an operator\u2019s process: start errors, staying alive, the guard', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let operator: Operator | undefined;

  before(async () => {
    plane = await sharedControlPlane();
    await plane.installCRDs([widgetCRD()]);
  });
  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
  });

  it('fails start() with an OperatorStartError naming the Role when RBAC forbids the leader-election Lease', async () => {
    const ns = await plane.createNamespace('lease-denied');
    const user = 'lease-denied-operator';
    // Everything the operator needs, except the Lease.
    const rbac = plane.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: user }, rules: [
      { apiGroups: ['it.maestro.dev'], resources: ['widgets', 'widgets/status'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
      { apiGroups: [''], resources: ['configmaps', 'services'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ] } });
    await rbac.createClusterRoleBinding({ body: {
      metadata: { name: user }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: user },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }],
    } });
    operator = createOperator({
      name: 'denied-operator', reconcilers: widgetReconcilers, kubeConfig: await plane.userKubeConfig(user), namespaces: [ns],
      server: false, logger: testLogger(), leaderElection: { namespace: ns, leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
    });
    const started = Date.now();
    let caught: unknown;
    try {
      await operator.start({ handleSignals: false });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(OperatorStartError);
    const message = (caught as Error).message;
    expect(message).to.contain(`may not get the leader-election Lease ${ns}/denied-operator`);
    expect(message).to.contain(`Role in namespace ${ns}`).and.to.contain('resources ["leases"]').and.to.contain('verbs ["get", "update"]');
    expect(message).to.contain('Role denied-operator-leader-election');
    expect(Date.now() - started, 'fails after two refused attempts, not after a long timeout').to.be.below(30_000);
    expect(operator.ready).to.equal(false);
  });

  it('keeps a process without HTTP server alive while the API server is unreachable, until start() fails on the cache sync timeout', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromClusterAndUser({ name: 'gone', server: `https://127.0.0.1:${await closedPort()}`, skipTLSVerify: true }, { name: 'nobody', token: 'x' });
    const proc = await startOperatorProcess({ module: main, kubeConfig, env: { LIFECYCLE_CASE: 'unreachable', LIFECYCLE_SYNC_MS: '3000' } });
    const exit = await proc.waitForExit(60_000);
    const outcome = proc.logs((l) => typeof l['outcome'] === 'string')[0];
    // Without the keep-alive the process ends at once, exit code 13 (a top-level await that never settles) and no outcome.
    expect(outcome, proc.lines.map((l) => l.text).join('\n')).to.deep.include({ outcome: 'start-error', name: 'OperatorStartError' });
    expect(String(outcome!['message'])).to.match(/^caches did not sync within 3000 ms: widgets\.it\.maestro\.dev/);
    expect(Number(outcome!['afterMs'])).to.be.at.least(3000);
    expect(exit.code).to.equal(3);
  });

  it('survives an unhandled rejection and an uncaught exception under the process guard, logging and counting each', async () => {
    const proc = await startOperatorProcess({ module: main, env: { LIFECYCLE_CASE: 'guard' } });
    const exit = await proc.waitForExit(30_000);
    expect(exit.code, proc.lines.map((l) => l.text).join('\n')).to.equal(0);
    const outcome = proc.logs((l) => l['outcome'] === 'survived')[0];
    expect(outcome?.['counters']).to.deep.equal([
      'maestro_unhandled_errors_total{type="unhandled_rejection"} 1',
      'maestro_unhandled_errors_total{type="uncaught_exception"} 1',
    ]);
    const logged = proc.logs((l) => l['level'] === 50).map((l) => String(l['err']));
    expect(logged).to.deep.equal(['a promise nobody awaited', 'a throwing timer']);
  });

  it('puts the process under V8\u2019s --optimize-for-size when it starts (start({ optimizeForSize }), default on), not before, and only while the live heap is below the bound', async () => {
    // Code V8 cached in a process started with --optimize-for-size is taken only where the flag is set too
    // (and --expose-gc, which the case sets to collect on demand).
    const source = 'function add(a, b) { return a + b; } add(1, 2);';
    const data = execFileSync(process.execPath, ['--expose-gc', '--optimize-for-size', '-e',
      `process.stdout.write(new (require('node:vm').Script)(${JSON.stringify(source)}).createCachedData().toString('base64'))`], { encoding: 'utf8' });
    const cached = join(mkdtempSync(join(tmpdir(), 'maestro-memory-')), 'cached.json');
    writeFileSync(cached, JSON.stringify({ source, data }));
    const outcome = async (optimize?: string, growMiB = 0) => {
      const proc = await startOperatorProcess({ module: main, kubeConfig: plane.kubeConfig, env: {
        LIFECYCLE_CASE: 'memory', LIFECYCLE_CACHED: cached, LIFECYCLE_GROW_MIB: String(growMiB), ...(optimize ? { LIFECYCLE_OPTIMIZE: optimize } : {}),
      } });
      const exit = await proc.waitForExit(60_000);
      expect(exit.code, proc.lines.map((l) => l.text).join('\n')).to.equal(0);
      const switches = proc.logs((l) => 'optimizeForSize' in l).map((l) => [l['optimizeForSize'], Number(l['liveHeapMiB']) > Number(l['boundMiB'])]);
      return { ...proc.logs((l) => l['outcome'] === 'memory')[0], switches };
    };
    // Each of before / after / grown / shrunk: whether the mode is on at that point (the probe takes the cached code).
    const atRest = await outcome();
    expect(atRest, JSON.stringify(atRest)).to.deep.include({ before: false, after: true, grown: true });
    const off = await outcome('false');
    expect(off, JSON.stringify(off)).to.deep.include({ before: false, after: false, grown: false });
    // The bound (default 24 MiB of growth): off once the live heap has grown past it, on again once it is back.
    const grown = await outcome(undefined, 80);
    expect(grown, JSON.stringify(grown)).to.deep.include({ before: false, after: true, grown: false, shrunk: true });
    // Each switch is logged, with the live heap against the bound: off above it, on again below.
    expect(grown.switches, 'the switches logged').to.deep.equal([[false, true], [true, false]]);
    const within = await outcome('{"untilHeapGrowthMiB":400}', 80);
    expect(within, JSON.stringify(within)).to.deep.include({ before: false, after: true, grown: true, shrunk: true, switches: [] });
    expect(atRest.switches, 'no switch at rest').to.deep.equal([]);
  });
});
