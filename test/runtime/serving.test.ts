// The `server` option of createOperator, without a cluster: what it builds, what it refuses,
// and that a server that cannot listen fails start() cleanly.
import 'reflect-metadata';
import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { V1ConfigMap } from '@kubernetes/client-node';
import { container as globalContainer } from 'tsyringe';
import { noopLogger } from '../../lib/conductor/index.js';
import { createOperator, type OperatorOptions, type Reconciler, type Result } from '../../lib/index.js';
import { Registry, ServerConfigError } from '../../lib/runtime/index.js';
import { decoratorsFor } from '../../decorators/index.js';
import { catchError } from '../support/errors.js';
import { get } from '../support/https-client.js';
import { kubeConfigFor } from '../support/kubeconfig.js';

const registry = new Registry();
const { Parent, Reconciles } = decoratorsFor(registry);
@Parent(V1ConfigMap) @Reconciles(10)
class Noop implements Reconciler<V1ConfigMap> {
  async reconcile(): Promise<Result> { return {}; }
}

// No API server answers here: start() fails once the caches have not synced in 3 s; the servers answer before that.
const kubeConfig = kubeConfigFor('https://127.0.0.1:1');
const operatorWith = (server: OperatorOptions['server']) => createOperator({
  registry, reconcilers: [Noop], container: globalContainer.createChildContainer(), kubeConfig, logger: noopLogger, server, cacheSyncTimeoutMs: 3000,
});

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('runtime: the server option', () => {
  it('serves securely by default: metrics over HTTPS behind authentication, probes over plain HTTP', async () => {
    const operator = operatorWith({ metricsPort: 0, probePort: 0, host: '127.0.0.1' });
    expect(operator.manager.serving?.secure).to.equal(true);
    try {
      const started = operator.start({ handleSignals: false }).catch((err: unknown) => err);
      await until(() => operator.probesUrl !== undefined && operator.metricsUrl !== undefined);
      expect(operator.metricsUrl).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(operator.probesUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const ca = operator.manager.serving!.metrics.certificatePem!;
      // No token: refused before any review (the API server of this test does not exist).
      const anonymous = await get(`${operator.metricsUrl}/metrics`, { ca });
      expect([anonymous.status, anonymous.headers['www-authenticate']]).to.deep.equal([401, 'Bearer']);
      const plain = await get(`${operator.metricsUrl!.replace('https:', 'http:')}/metrics`).then((r) => r.status, () => 'refused');
      expect(plain, 'no plain HTTP on the metrics port').not.to.equal(200);
      expect((await get(`${operator.probesUrl}/healthz`)).status).to.equal(200);
      expect(await started).to.have.property('code', 'OperatorStart');
    } finally {
      await operator.stop();
    }
  });

  it('is off with server: false', () => {
    const operator = operatorWith(false);
    expect(operator.manager.serving).to.equal(undefined);
    expect([operator.metricsUrl, operator.probesUrl]).to.deep.equal([undefined, undefined]);
  });

  it('refuses options that cannot work, when the operator is created', () => {
    const refused = (server: OperatorOptions['server']) => catchError(() => operatorWith(server));
    for (const [server, message] of [
      [{ metricsPort: 70_000 }, 'server.metricsPort 70000 is not a TCP port'],
      [{ probePort: -1 }, 'server.probePort -1 is not a TCP port'],
      [{ metricsPort: 9000, probePort: 9000 }, 'server.metricsPort and server.probePort are both 9000'],
      [{ secure: false, tls: { certDir: '/certs' } }, 'metrics `tls` was given with secure: false'],
    ] as const) {
      const err = refused(server);
      expect(err, JSON.stringify(server)).to.be.instanceOf(ServerConfigError);
      expect((err as Error).message).to.contain(message);
    }
  });

  it('with secure: false, serves metrics over plain HTTP and probes on their own port', async () => {
    const operator = operatorWith({ secure: false, metricsPort: 0, probePort: 0, host: '127.0.0.1' });
    try {
      // The caches cannot sync without an API server; the servers are up before that.
      const started = operator.start({ handleSignals: false }).catch((err: unknown) => err);
      await until(() => operator.probesUrl !== undefined && operator.metricsUrl !== undefined);
      expect(operator.metricsUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await get(`${operator.metricsUrl}/metrics`)).body).to.contain('controller_runtime_max_concurrent_reconciles');
      const ready = await get(`${operator.probesUrl}/readyz?verbose`);
      expect([ready.status, ready.body]).to.deep.equal([500, '[-]informer-sync failed: caches not synced yet\n[-]running failed: operator is starting\nreadyz check failed\n']);
      expect((await get(`${operator.probesUrl}/healthz`)).status).to.equal(200);
      expect(await started).to.have.property('code', 'OperatorStart');
    } finally {
      await operator.stop();
    }
  });

  it('fails start() with a ServerConfigError when a port is taken, leaving no server behind', async () => {
    const taken = await occupiedPort();
    try {
      // The metrics port is taken: the probe server, started first, is closed again.
      const metricsTaken = operatorWith({ metricsPort: taken.port, probePort: 0, host: '127.0.0.1' });
      const first = await metricsTaken.start({ handleSignals: false }).then(() => undefined, (e: unknown) => e);
      expect(first).to.be.instanceOf(ServerConfigError);
      expect((first as Error).message).to.contain(`metrics server: cannot listen on 127.0.0.1:${taken.port}`);
      expect(await get(`${metricsTaken.probesUrl}/healthz`, { timeoutMs: 2000 }).then(() => 'answered', () => 'closed')).to.equal('closed');
      // The probe port is taken: the metrics server never starts.
      const probesTaken = operatorWith({ metricsPort: 0, probePort: taken.port, host: '127.0.0.1' });
      const second = await probesTaken.start({ handleSignals: false }).then(() => undefined, (e: unknown) => e);
      expect(second).to.be.instanceOf(ServerConfigError);
      expect((second as Error).message).to.contain(`probe server: cannot listen on 127.0.0.1:${taken.port}`);
      expect(probesTaken.metricsUrl).to.equal(undefined);
    } finally {
      taken.server.close();
    }
  });
});

async function until(probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
