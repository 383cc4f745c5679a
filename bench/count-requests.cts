// Preloaded into every contender process (`node --require ./dist/bench/count-requests.cjs`):
// counts the HTTP requests the process sends, at the client, whatever library sends them.
// Node's own http client publishes `http.client.request.start` (client-node 0.20's
// `request`, gaxios/node-fetch), undici (npm or Node's built-in fetch, used by client-node
// 2.x) publishes `undici:request:create`; no library uses both for one request, so the
// two channels never count a request twice.
// CommonJS, required, and reading the clock only when tracing: the instrument's own share of
// a contender's start-up CPU is then 4 to 6 ms, against about 12 as an ES module preloaded
// with `--import` (the loader, the ES module facades of `node:fs` and
// `node:diagnostics_channel`); controller-runtime's compiled-in counter costs nothing
// (bench/README.md).
import { subscribe } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import { classify, counters, markRequest } from './requests.cjs';

(globalThis as Record<symbol, unknown>)[Symbol.for('maestro.bench.counting')] = true;

// BENCH_TRACE_REQUESTS=<prefix>: also append one line per request to <prefix>.<module>.<pid> (for diagnosis).
const trace = process.env['BENCH_TRACE_REQUESTS'] ? `${process.env['BENCH_TRACE_REQUESTS']}.${process.argv[1]?.split('/').pop()}.${process.pid}` : undefined;
const started = trace ? performance.now() : 0;

function count(method: string, target: string): void {
  const kind = classify(method, target);
  if (trace) appendFileSync(trace, `${(performance.now() - started).toFixed(1)} ${method} ${target}\n`);
  markRequest();
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
