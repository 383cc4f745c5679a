// The one transport against a local HTTP server that plays the API server: status codes,
// headers, deadlines, the connection pool, watches and their timeouts, request metrics.
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from '../../lib/index.js';
import { ApiTransport, Backoff, Metrics, type RequestRecord } from '../../lib/runtime/index.js';
import { queryString } from '../../lib/client/transport.js';
import { kubeConfigFor } from '../support/kubeconfig.js';
import { parseMetrics, metricValue } from '../support/wait.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('ApiTransport (against a local HTTP server)', () => {
  let server: Server;
  let handler: Handler;
  let connections: number;
  const sockets = new Set<Socket>();
  let seen: Array<{ method?: string; url?: string; headers: IncomingMessage['headers'] }>;
  let records: RequestRecord[];
  let kubeConfig: KubeConfig;
  let transport: ApiTransport;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers });
        handler(req, res, body);
      });
    });
    server.on('connection', (socket: Socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    connections = 0;
    seen = [];
    records = [];
    handler = (_req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{}'); };
    const { port } = server.address() as AddressInfo;
    kubeConfig = kubeConfigFor(`http://127.0.0.1:${port}`, 'secret-token');
    transport = ApiTransport.create(kubeConfig, { userAgent: 'test-operator', onRequest: (r) => records.push(r), timeoutMs: 2_000 });
  });
  afterEach(() => transport.close());

  const json = (status: number, body: unknown): Handler => (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  it('reports the real status code of every request and returns the parsed body', async () => {
    handler = (req, res, body) => json(req.method === 'POST' ? 201 : 200, { kind: 'ConfigMap', apiVersion: 'v1', echo: body ? JSON.parse(body) as unknown : null })(req, res, body);
    const created = await transport.send<{ echo: unknown }>('POST', '/api/v1/namespaces/a/configmaps', { body: { metadata: { name: 'x' } }, query: { fieldManager: 'me', dryRun: undefined } });
    expect(created.echo).to.deep.equal({ metadata: { name: 'x' } });
    await transport.send('GET', '/api/v1/namespaces/a/configmaps/x');
    expect(records.map((r) => [r.method, r.path, r.statusCode])).to.deep.equal([
      ['POST', '/api/v1/namespaces/a/configmaps', 201],
      ['GET', '/api/v1/namespaces/a/configmaps/x', 200],
    ]);
    expect(seen[0]!.url).to.equal('/api/v1/namespaces/a/configmaps?fieldManager=me');
    expect(seen[0]!.headers['content-type']).to.equal('application/json');
  });

  it('sends a body given as JSON text exactly as given, with its content type', async () => {
    let received = '';
    handler = (req, res, body) => { received = body; json(200, {})(req, res, body); };
    // Spacing, key order and a non-ASCII character that parsing and serializing again would change.
    const text = '{ "kind": "ConfigMap",\n  "data": {"b": "h\u00e9llo", "a": "\\u00e9"} }';
    await transport.send('PATCH', '/api/v1/namespaces/a/configmaps/x', { json: text, contentType: 'application/apply-patch+yaml' });
    expect(received).to.equal(text);
    expect(seen[0]!.headers['content-type']).to.equal('application/apply-patch+yaml');
    // Given both, the text is sent and the object ignored.
    await transport.send('PUT', '/api/v1/namespaces/a/configmaps/x', { json: '{"sent":true}', body: { sent: false } });
    expect(received).to.equal('{"sent":true}');
    expect(seen[1]!.headers['content-type']).to.equal('application/json');
  });

  it('sends the User-Agent and the kubeconfig\u2019s credentials on every request, the watch included', async () => {
    handler = (req, res) => {
      if (req.url?.includes('watch=true')) { res.writeHead(200); res.end(); return; }
      json(200, {})(req, res, '');
    };
    await transport.send('GET', '/api/v1/pods');
    await transport.watch('/api/v1/pods', { onEvent: () => undefined });
    expect(seen).to.have.length(2);
    for (const request of seen) {
      expect(request.headers['user-agent']).to.equal('test-operator');
      expect(request.headers.authorization).to.equal('Bearer secret-token');
    }
  });

  it('turns an API failure into an ApiError with the Status\u2019s reason and the HTTP code', async () => {
    handler = json(409, { kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409, message: 'the object has been modified' });
    const err = await transport.send('PUT', '/api/v1/namespaces/a/configmaps/x', { body: {} }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect(err).to.include({ statusCode: 409, reason: 'Conflict' });
    expect((err as ApiError).message).to.equal('PUT /api/v1/namespaces/a/configmaps/x: the object has been modified');
    expect(records.map((r) => r.statusCode)).to.deep.equal([409]);
  });

  it('gives up on a request without a response at its deadline, with status 0 and reason Timeout', async () => {
    handler = () => undefined; // never answers
    const started = performance.now();
    const err = await transport.send('GET', '/api/v1/namespaces/a/configmaps/slow', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError).and.include({ statusCode: 0, reason: 'Timeout' });
    expect(performance.now() - started).to.be.lessThan(10_000);
    expect(records.map((r) => r.statusCode)).to.deep.equal([0]);
  });

  it('aborts a request when its signal aborts', async () => {
    handler = () => undefined;
    const controller = new AbortController();
    const pending = transport.send('GET', '/api/v1/namespaces/a/configmaps/held', { signal: controller.signal });
    controller.abort(new Error('leadership lost'));
    const err = await pending.catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError).and.have.property('statusCode', 0);
    expect((err as Error).message).to.contain('aborted (leadership lost)');
  });

  it('keeps a request\u2019s deadline while its connection is still being set up (a TLS handshake never answered)', async () => {
    // A server that accepts TCP connections and never speaks: undici's own connect timeout is 10 s.
    const silent = createNetServer(() => undefined);
    const held = new Set<Socket>();
    silent.on('connection', (socket: Socket) => { held.add(socket); socket.on('close', () => held.delete(socket)); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const mute = ApiTransport.create(kubeConfigFor(`https://127.0.0.1:${(silent.address() as AddressInfo).port}`, 't'));
    try {
      const started = performance.now();
      const timedOut = await mute.send('GET', '/api/v1/pods', { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(timedOut).to.be.instanceOf(ApiError).and.include({ statusCode: 0, reason: 'Timeout' });
      const controller = new AbortController();
      const pending = mute.send('GET', '/api/v1/pods', { signal: controller.signal }).catch((e: unknown) => e);
      controller.abort(new Error('stopping'));
      expect(((await pending) as Error).message).to.contain('aborted (stopping)');
      expect(await mute.watch('/api/v1/pods', { signal: AbortSignal.abort(new Error('gone')), onEvent: () => undefined })).to.equal('aborted');
      expect(performance.now() - started, 'well before undici\u2019s 10 s connect timeout').to.be.lessThan(5_000);
    } finally {
      await mute.close(100);
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('decodes a character split across chunks, in a response and in a watch', async () => {
    const text = JSON.stringify({ data: { greeting: 'h\u00e9llo \u4e16\u754c' } });
    const bytes = Buffer.from(text, 'utf8');
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of \u00e9
    handler = (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const payload = req.url?.includes('watch=true') ? Buffer.concat([Buffer.from('{"type":"ADDED","object":'), bytes, Buffer.from('}\n')]) : bytes;
      const at = req.url?.includes('watch=true') ? cut + '{"type":"ADDED","object":'.length : cut;
      res.write(payload.subarray(0, at));
      setTimeout(() => res.end(payload.subarray(at)), 20);
    };
    expect(await transport.send('GET', '/api/v1/namespaces/a/configmaps/x')).to.deep.equal(JSON.parse(text));
    const objects: unknown[] = [];
    await transport.watch('/api/v1/configmaps', { onEvent: (_type, object) => objects.push(object) });
    expect(objects).to.deep.equal([JSON.parse(text)]);
  });

  it('closes its pool within a bound, ending a request that hangs', async () => {
    handler = () => undefined;
    const pending = transport.send('GET', '/api/v1/namespaces/a/configmaps/hanging', { timeoutMs: 60_000 }).catch((e: unknown) => e);
    while (seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const started = performance.now();
    await transport.close(200);
    expect(performance.now() - started).to.be.lessThan(10_000);
    expect(await pending).to.be.instanceOf(ApiError).and.have.property('statusCode', 0);
    expect(await transport.send('GET', '/api/v1/pods').catch((e: unknown) => (e as Error).message)).to.contain('the transport is closed');
  });

  it('reuses its connections (a keep-alive pool), not one per request', async () => {
    for (let i = 0; i < 20; i++) await transport.send('GET', `/api/v1/namespaces/a/configmaps/c${i}`);
    // HTTP/1.1 here (plain HTTP); against a real API server the pool speaks HTTP/2 over one connection.
    expect(connections).to.be.within(1, 2);
    const another = ApiTransport.create(kubeConfig);
    try {
      await another.send('GET', '/api/v1/namespaces/a/configmaps/other');
    } finally {
      await another.close();
    }
    expect(connections, 'another transport has a pool of its own').to.be.within(2, 3);
  });

  it('delivers watch events in order and ends with the server', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // Events split across chunks, one per line.
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MODI');
      setTimeout(() => res.end('FIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}\n'), 20);
    };
    const events: string[] = [];
    const end = await transport.watch('/api/v1/configmaps', {
      query: { resourceVersion: '1', allowWatchBookmarks: 'true' }, timeoutSeconds: 300,
      onEvent: (type, object) => events.push(`${type} ${(object.metadata as { name: string }).name}`),
    });
    expect(end).to.equal('closed');
    expect(events).to.deep.equal(['ADDED a', 'MODIFIED a']);
    const url = new URL(seen[0]!.url!, 'http://x');
    expect(Object.fromEntries(url.searchParams)).to.deep.equal({ resourceVersion: '1', allowWatchBookmarks: 'true', watch: 'true', timeoutSeconds: '300' });
    expect(records.map((r) => [r.method, r.statusCode])).to.deep.equal([['WATCH', 200]]);
  });

  it('delivers no event after its handler stopped the watch, not even the rest of the same chunk', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(['a', 'b', 'c'].map((name) => JSON.stringify({ type: 'ADDED', object: { metadata: { name } } })).join('\n') + '\n');
    };
    const controller = new AbortController();
    const names: string[] = [];
    const end = await transport.watch('/api/v1/configmaps', {
      signal: controller.signal,
      onEvent: (_type, object) => { names.push((object.metadata as { name: string }).name); controller.abort(new Error('stopping')); },
    });
    expect(end).to.equal('aborted');
    expect(names).to.deep.equal(['a']);
  });

  it('ends a watch that stays silent longer than its idle timeout (a half-open connection)', async () => {
    handler = (_req, res) => { res.writeHead(200); res.write('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"5"}}}\n'); };
    const types: string[] = [];
    const end = await transport.watch('/api/v1/configmaps', { idleTimeoutMs: 300, onEvent: (type) => types.push(type) });
    expect(end).to.equal('idle');
    expect(types).to.deep.equal(['BOOKMARK']);
  });

  it('rejects a watch that cannot be opened (410 Gone) and ends with what its handler threw', async () => {
    handler = json(410, { kind: 'Status', reason: 'Expired', code: 410, message: 'too old resource version' });
    const gone = await transport.watch('/api/v1/configmaps', { onEvent: () => undefined }).catch((e: unknown) => e);
    expect(gone).to.be.instanceOf(ApiError).and.include({ statusCode: 410, reason: 'Expired' });
    handler = (_req, res) => { res.writeHead(200); res.write('{"type":"ERROR","object":{"code":410}}\n'); };
    const thrown = new Error('expired while watching');
    const err = await transport.watch('/api/v1/configmaps', { onEvent: (type) => { if (type === 'ERROR') throw thrown; } }).catch((e: unknown) => e);
    expect(err).to.equal(thrown);
  });

  it('feeds rest_client_requests_total and rest_client_request_duration_seconds', async () => {
    const metrics = new Metrics();
    const rest = metrics.restClient('127.0.0.1');
    const measured = ApiTransport.create(kubeConfig, { onRequest: (r) => rest.observe(r) });
    try {
      handler = json(200, {});
      await measured.send('GET', '/api/v1/pods');
      handler = json(404, { kind: 'Status', reason: 'NotFound', code: 404 });
      await measured.send('GET', '/api/v1/pods/x').catch(() => undefined);
    } finally {
      await measured.close();
    }
    const text = parseMetrics(await metrics.text());
    expect(metricValue(text, 'rest_client_requests_total', { code: '200', method: 'GET', host: '127.0.0.1' })).to.equal(1);
    expect(metricValue(text, 'rest_client_requests_total', { code: '404', method: 'GET' })).to.equal(1);
    expect(metricValue(text, 'rest_client_request_duration_seconds_count', { verb: 'GET' })).to.equal(2);
  });
});

describe('the query string of a request', () => {
  it('is what URLSearchParams writes, for plain words and for selectors, names and values that need encoding', () => {
    const queries: Record<string, string | undefined>[] = [
      {},
      { fieldManager: 'site-operator', force: 'true', dryRun: undefined },
      { labelSelector: 'app in (a,b),tier!=db', limit: '500', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTJ9' },
      { fieldSelector: 'metadata.name=web-1', resourceVersion: '12345', watch: 'true', allowWatchBookmarks: 'true' },
      { fieldManager: 'ünïcode manager', 'odd key': 'a+b&c=d', '*.-_': '*.-_' },
      { timeoutSeconds: '300', sendInitialEvents: undefined },
      // Plain words first, then one that needs encoding: the whole query as URLSearchParams writes it.
      { fieldManager: 'm', force: 'true', labelSelector: 'a=b' },
      // Integer-like keys come first in an object's own order, in both.
      { b: 'x', 10: 'y', 2: 'z y' },
    ];
    for (const query of queries) {
      const expected = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();
      expect(queryString(query), JSON.stringify(query)).to.equal(expected);
    }
  });
});

describe('Backoff (informer reconnects and re-lists)', () => {
  it('waits 800 ms to 1.6 s first, doubles, never more than 30 s, and starts over after a reset', () => {
    const lowest = new Backoff(800, 30_000, () => 0);
    expect(Array.from({ length: 8 }, () => lowest.next())).to.deep.equal([800, 1600, 3200, 6400, 12_800, 15_000, 15_000, 15_000]);
    const highest = new Backoff(800, 30_000, () => 0.999999);
    expect(Array.from({ length: 8 }, () => highest.next())).to.deep.equal([1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000, 30_000]);
    highest.reset();
    expect(highest.next()).to.equal(1600);
  });
});
