// Preloaded into every contender process (`node --import ./dist/bench/count-requests.js`):
// counts the HTTP requests the process sends, at the client, whatever library sends them.
// Node's own http client publishes `http.client.request.start` (client-node 0.20's
// `request`, gaxios/node-fetch), undici (npm or Node's built-in fetch, used by client-node
// 2.x) publishes `undici:request:create`; no library uses both for one request, so the
// two channels never count a request twice.
import { subscribe } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import { counters, type RequestKind } from './requests.js';

(globalThis as Record<symbol, unknown>)[Symbol.for('maestro.bench.counting')] = true;

/** What a request is, from its method and target (path and query). */
function classify(method: string, target: string): RequestKind {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  if (/(^|&)watch=(true|1)(&|$)/.test(query)) return 'watch';
  const m = method.toUpperCase();
  if (m === 'GET') return isCollection(path) ? 'list' : 'get';
  if (m === 'PATCH' && path.endsWith('/status')) return 'patchStatus';
  if (m === 'PATCH') return 'patch';
  if (m === 'POST') return 'post';
  if (m === 'PUT') return 'put';
  if (m === 'DELETE') return 'delete';
  return 'other';
}

/** `/api/v1/namespaces/x/configmaps` and `/apis/g/v/sites` are collections; one more segment is an object. */
function isCollection(path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  let rest: string[];
  if (parts[0] === 'api') rest = parts.slice(2);
  else if (parts[0] === 'apis') rest = parts.slice(3);
  else return false;
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  return rest.length === 1;
}

// BENCH_TRACE_REQUESTS=<prefix>: also append one line per request to <prefix>.<module>.<pid> (for diagnosis).
const trace = process.env['BENCH_TRACE_REQUESTS'] ? `${process.env['BENCH_TRACE_REQUESTS']}.${process.argv[1]?.split('/').pop()}.${process.pid}` : undefined;
const started = performance.now();

function count(method: string, target: string): void {
  const kind = classify(method, target);
  if (trace) appendFileSync(trace, `${(performance.now() - started).toFixed(1)} ${method} ${target}\n`);
  counters.total++;
  counters.byKind[kind] = (counters.byKind[kind] ?? 0) + 1;
}

function status(code: number): void {
  if (trace) appendFileSync(trace, `${(performance.now() - started).toFixed(1)} -> ${code}\n`);
  const key = code >= 200 && code < 300 ? '2xx' : String(code);
  counters.byStatus[key] = (counters.byStatus[key] ?? 0) + 1;
}

subscribe('http.client.request.start', (message) => {
  const { request } = message as { request: { method: string; path: string } };
  count(request.method, request.path);
});
subscribe('http.client.response.finish', (message) => {
  const { response } = message as { response: { statusCode?: number } };
  status(response.statusCode ?? 0);
});
subscribe('undici:request:create', (message) => {
  const { request } = message as { request: { method: string; path: string } };
  count(request.method, request.path);
});
subscribe('undici:request:headers', (message) => {
  const { response } = message as { response: { statusCode?: number } };
  status(response.statusCode ?? 0);
});
subscribe('net.client.socket', () => {
  counters.connections.net++;
});
subscribe('undici:client:connected', () => {
  counters.connections.undici++;
});
