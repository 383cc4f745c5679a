// Maestro's undici adapter (lib/client/undici.ts) imports undici's modules without its
// package root. These tests fail when an undici upgrade moves those modules or changes
// what the root does with them.
import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as undici from 'undici';
import { Agent, ProxyAgent, Socks5ProxyAgent, fetch } from '../../lib/client/undici.js';

describe("the undici adapter (undici's dispatchers without its package root)", () => {
  it("gives the very classes the package root exports, with the root's request API on them", () => {
    expect([Agent, ProxyAgent, Socks5ProxyAgent]).to.deep.equal([undici.Agent, undici.ProxyAgent, undici.Socks5ProxyAgent]);
    const mixedIn = (proto: object, method: string) => (proto as Record<string, unknown>)[method];
    for (const method of ['request', 'stream', 'pipeline', 'upgrade', 'connect']) {
      expect(typeof mixedIn(Agent.prototype, method), method).to.equal('function');
      expect(mixedIn(Agent.prototype, method), method).to.equal(mixedIn(undici.Agent.prototype, method));
    }
  });

  it('requests through an Agent, and fetches through the root loaded on the first call', async () => {
    const server = createServer((req, res) => res.end(`${req.method} ${req.url}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agent = new Agent();
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const response = await agent.request({ origin: url, path: '/a', method: 'GET' });
      expect([response.statusCode, await response.body.text()]).to.deep.equal([200, 'GET /a']);
      const fetched = await fetch(`${url}/b`, { method: 'POST', dispatcher: agent });
      expect([fetched.status, await fetched.text()]).to.deep.equal([200, 'POST /b']);
    } finally {
      await agent.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
