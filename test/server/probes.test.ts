import { expect } from 'chai';
import { ProbeServer, ServerConfigError } from '../../lib/server/index.js';
import { get } from '../support/https-client.js';
import { hasIPv6Loopback } from '../support/ipv6.js';

describe('server: ProbeServer', () => {
  let server: ProbeServer | undefined;
  afterEach(async () => { await server?.stop(); server = undefined; });

  it('answers /healthz, /livez and /readyz with ok when every check passes', async () => {
    server = new ProbeServer({ port: 0, health: { ping: () => undefined }, readiness: { caches: async () => undefined } });
    await server.start();
    for (const path of ['/healthz', '/livez', '/readyz']) {
      const res = await get(`${server.url}${path}`);
      expect([res.status, res.body], path).to.deep.equal([200, 'ok\n']);
    }
  });

  it('answers 500 with every check listed when one fails, throws or rejects; ?verbose lists them when fine', async () => {
    let synced = false;
    server = new ProbeServer({
      port: 0,
      health: { ping: () => undefined },
      readiness: {
        caches: () => (synced ? undefined : 'caches not synced'),
        thrower: () => { if (!synced) throw new Error('boom'); return undefined; },
        rejecter: async () => { if (!synced) throw new Error('async boom'); return undefined; },
      },
    });
    await server.start();
    const failing = await get(`${server.url}/readyz`);
    expect(failing.status).to.equal(500);
    expect(failing.body).to.equal('[-]caches failed: caches not synced\n[-]thrower failed: boom\n[-]rejecter failed: async boom\nreadyz check failed\n');
    expect((await get(`${server.url}/healthz`)).status).to.equal(200, 'liveness is separate from readiness');
    synced = true;
    const verbose = await get(`${server.url}/readyz?verbose`);
    expect([verbose.status, verbose.body]).to.deep.equal([200, '[+]caches ok\n[+]thrower ok\n[+]rejecter ok\nreadyz check passed\n']);
  });

  it('runs one named check at /readyz/<name>, and serves no other path', async () => {
    server = new ProbeServer({ port: 0, readiness: { good: () => undefined, bad: () => 'no' } });
    await server.start();
    expect((await get(`${server.url}/readyz/good`)).status).to.equal(200);
    expect((await get(`${server.url}/readyz/bad`)).status).to.equal(500);
    for (const path of ['/readyz/missing', '/readyz/constructor', '/readyz/__proto__', '/metrics', '/', '/readyz/good/x']) {
      expect((await get(`${server.url}${path}`)).status, path).to.equal(404);
    }
    expect((await get(`${server.url}/readyz`, { method: 'POST' })).status).to.equal(405);
  });

  it('listens on every interface by default: IPv4 and IPv6 loopback both answer', async function () {
    if (!hasIPv6Loopback()) this.skip(); // this machine has ::1; a machine without IPv6 cannot test it
    server = new ProbeServer({ port: 0 });
    const address = await server.start();
    expect(address.address).to.equal('::');
    expect((await get(`http://127.0.0.1:${address.port}/healthz`)).status).to.equal(200);
    expect((await get(`http://[::1]:${address.port}/healthz`)).status).to.equal(200);
  });

  it('binds only the configured address when one is given', async () => {
    server = new ProbeServer({ port: 0, host: '127.0.0.1' });
    const address = await server.start();
    expect(address.address).to.equal('127.0.0.1');
    expect((await get(`http://127.0.0.1:${address.port}/healthz`)).status).to.equal(200);
    if (hasIPv6Loopback()) {
      const err = await get(`http://[::1]:${address.port}/healthz`).then(() => undefined, (e: unknown) => e);
      expect((err as NodeJS.ErrnoException | undefined)?.code).to.equal('ECONNREFUSED');
    }
  });

  it('rejects a port in use or out of range with a typed error', async () => {
    server = new ProbeServer({ port: 0, host: '127.0.0.1' });
    const { port } = await server.start();
    const second = new ProbeServer({ port, host: '127.0.0.1' });
    const err = await second.start().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ServerConfigError);
    expect((err as Error).message).to.match(/probe server: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    const bad = await new ProbeServer({ port: 70_000 }).start().then(() => undefined, (e: unknown) => e);
    expect(bad).to.be.instanceOf(ServerConfigError);
  });
});
