// Webhook latency: the static-site sample's validating and mutating webhooks served by
// Maestro's WebhookServer (HTTPS), called at a fixed rate (default 50 requests/s, half
// validating, half mutating, valid and invalid objects alternating) over keep-alive TLS
// connections from loopback, as the API server calls them. Reports p50/p90/p99/max of the
// round trip (the API server's own work is not included).
//   node dist/bench/webhook-latency.js [--rate 50] [--seconds 20]
import 'reflect-metadata';
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildSpecs } from '../lib/declare/index.js';
import { selfSignedCertificate } from '../lib/server/certificates.js';
import { WebhookServer } from '../lib/server/index.js';
import { WebhookHandlers } from '../lib/webhook/index.js';
import { staticSiteComponents } from '../samples/static-site/reconcilers.js';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '50' }, seconds: { type: 'string', default: '20' } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);

const spec = buildSpecs({ components: staticSiteComponents });
const certificate = await selfSignedCertificate();
const server = new WebhookServer({ handler: new WebhookHandlers(spec.webhooks), port: 0, host: '127.0.0.1', certificate });
await server.start();
const agent = new Agent({ keepAlive: true, ca: certificate.certPem, maxSockets: 16 });
const paths = [spec.webhooks[0]!.paths.validate, spec.webhooks[0]!.paths.mutate];

function review(i: number): string {
  const image = i % 4 < 2 ? 'nginx:1.27' : 'nginx';
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid: `u${i}`, operation: 'CREATE',
      kind: { group: 'sites.maestro.dev', version: 'v1', kind: 'StaticSite' },
      resource: { group: 'sites.maestro.dev', version: 'v1', resource: 'staticsites' },
      object: {
        apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name: `s${i}`, namespace: 'bench' },
        spec: { image, pages: { 'index.html': `<h1>${i}</h1>`, 'about.html': '<p>about</p>' } },
      },
    },
  });
}

function call(i: number): Promise<number> {
  const body = review(i);
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${server.url!}${paths[i % 2]!}`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - began) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Warm up (TLS handshakes, JIT), then the measured run at a fixed rate (open loop).
await Promise.all(Array.from({ length: 50 }, (_, i) => call(i)));
const latencies: number[] = [];
const total = Math.round(rate * seconds);
const start = performance.now();
const pending: Array<Promise<void>> = [];
for (let i = 0; i < total; i++) {
  const due = start + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  pending.push(call(i).then((ms) => { latencies.push(ms); }));
}
await Promise.all(pending);
agent.destroy();
await server.stop();

latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!.toFixed(2);
process.stdout.write(`webhook latency, ${latencies.length} requests at ${rate}/s over ${seconds} s: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms\n`);
