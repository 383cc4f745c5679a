import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseMessageLine } from '../../bench/children.js';
import { classify } from '../../bench/requests.cjs';

describe('bench request classification', () => {
  it('tells watches, lists, gets and writes apart, as every contender counts them', () => {
    expect(classify('GET', '/apis/bench.maestro.dev/v1/namespaces/ns/sites?watch=true&resourceVersion=5')).to.equal('watch');
    expect(classify('GET', '/api/v1/namespaces/ns/configmaps?limit=500')).to.equal('list');
    expect(classify('GET', '/apis/bench.maestro.dev/v1/sites')).to.equal('list');
    expect(classify('GET', '/api/v1/namespaces/ns/configmaps/site-00001')).to.equal('get');
    expect(classify('PATCH', '/api/v1/namespaces/ns/services/site-1?fieldManager=site-operator&force=true')).to.equal('patch');
    expect(classify('PATCH', '/apis/bench.maestro.dev/v1/namespaces/ns/sites/site-1/status')).to.equal('patchStatus');
    expect(classify('post', '/api/v1/namespaces/ns/events')).to.equal('post');
    expect(classify('DELETE', '/api/v1/namespaces/ns')).to.equal('delete');
    expect(classify('GET', '/version')).to.equal('get');
  });
});

describe('bench request counter (the preload of every Node contender)', () => {
  it('is required as CommonJS and counts the requests, responses and connections of Node\'s http client and of undici (fetch)', async () => {
    const preload = fileURLToPath(new URL('../../bench/count-requests.cjs', import.meta.url));
    // Two requests to a local server, one through node:http and one through fetch; then the counters.
    const script = [
      "import { createServer, get } from 'node:http';",
      "const server = createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1');",
      "await new Promise((resolve) => server.once('listening', resolve));",
      'const url = `http://127.0.0.1:${server.address().port}`;',
      "await new Promise((resolve, reject) => get(`${url}/api/v1/namespaces/ns/configmaps?limit=500`, (res) => res.resume().on('end', resolve)).on('error', reject));",
      "await (await fetch(`${url}/api/v1/namespaces/ns/configmaps/a?watch=true`, { headers: { connection: 'close' } })).text();",
      'server.close();',
      "console.log(JSON.stringify({ counting: globalThis[Symbol.for('maestro.bench.counting')], ...globalThis[Symbol.for('maestro.bench.requests')] }));",
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', preload, '--input-type=module', '-e', script]);
    const counted = JSON.parse(stdout) as { counting: boolean; total: number; byKind: object; byStatus: object; connections: { net: number; undici: number } };
    expect(counted).to.deep.include({ counting: true, total: 2, byKind: { list: 1, watch: 1 }, byStatus: { '2xx': 2 } });
    expect(counted.connections.undici, 'connections undici made').to.equal(1);
    expect(counted.connections.net, 'TCP connections').to.be.at.least(2);
  });
});

describe('bench native contender protocol', () => {
  it('takes JSON objects with a type as messages, anything else as output', () => {
    expect(parseMessageLine('{"type":"ready","stats":{"reconciles":0}}')).to.deep.equal({ type: 'ready', stats: { reconciles: 0 } });
    expect(parseMessageLine('  {"type":"final","stats":{}}  ')).to.deep.equal({ type: 'final', stats: {} });
    expect(parseMessageLine('I1202 07:00:00 controller started')).to.equal(undefined);
    expect(parseMessageLine('{"level":"error","msg":"x"}')).to.equal(undefined);
    expect(parseMessageLine('{not json')).to.equal(undefined);
  });
});
