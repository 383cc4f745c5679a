// The fault scenarios' operator as a process of its own, configured by the environment:
//   KUBECONFIG            the cluster (createOperator's default)
//   FAULT_NAME            operator name, also the Lease name (default fault-operator)
//   FAULT_KIND            task | beacon (default task)
//   FAULT_NAMESPACES      comma-separated namespaces to watch
//   FAULT_CONCURRENCY     maxConcurrentReconciles (default 1)
//   FAULT_LEASE           JSON { leaseDurationMs, renewDeadlineMs, retryPeriodMs }: leader election on
//   FAULT_IDENTITY        the leader-election identity
//   FAULT_GRACE_MS        gracefulShutdownMs
//   FAULT_SERVER=0        no servers (default: /metrics over plain HTTP and /healthz, /readyz on
//                         free loopback ports, as users run it: the servers are on by default)
//   FAULT_THROWING_COLLECTOR=1  register a Prometheus collector that throws
// It writes `fx` lines (see task-operator.ts): `ready` once started, `leader` on every
// change of leadership (sampled every 5 ms), and each reconcile's `start` line says whether
// the operator led at that moment; besides the operator's own pino log.
import 'reflect-metadata';
import { Gauge } from 'prom-client';
import { createOperator } from '../../../lib/index.js';
import { emit, leadership, now, reconcilerSets } from './task-operator.js';

const env = process.env;
const kind = (env['FAULT_KIND'] ?? 'task') as keyof typeof reconcilerSets;
const namespaces = env['FAULT_NAMESPACES']?.split(',').filter(Boolean);
const lease = env['FAULT_LEASE'] ? (JSON.parse(env['FAULT_LEASE']) as Record<string, number>) : undefined;
const identity = env['FAULT_IDENTITY'];

const operator = createOperator({
  name: env['FAULT_NAME'] ?? 'fault-operator',
  reconcilers: [...reconcilerSets[kind]],
  ...(namespaces?.length ? { namespaces } : {}),
  maxConcurrentReconciles: Number(env['FAULT_CONCURRENCY'] ?? 1),
  ...(lease ? { leaderElection: { ...lease, namespace: env['FAULT_LEASE_NAMESPACE'] ?? namespaces?.[0], ...(identity ? { identity } : {}) } } : {}),
  ...(env['FAULT_GRACE_MS'] ? { gracefulShutdownMs: Number(env['FAULT_GRACE_MS']) } : {}),
  server: env['FAULT_SERVER'] === '0' ? false : { secure: false, metricsPort: 0, probePort: 0, host: '127.0.0.1' },
});

if (env['FAULT_THROWING_COLLECTOR'] === '1') {
  // A user's custom metric whose collection fails (a broken exporter, a closed pool...).
  new Gauge({
    name: 'fault_broken_collector',
    help: 'A collector that always throws.',
    registers: [operator.manager.metrics.registry],
    collect() {
      throw new Error('the collector failed');
    },
  });
}

leadership.isLeader = () => operator.isLeader;
let leading = false;
const sampler = setInterval(() => {
  if (operator.isLeader === leading) return;
  leading = operator.isLeader;
  emit({ fx: 'leader', leading, at: now() });
}, 5);
sampler.unref();

await operator.start();
emit({ fx: 'ready', at: now(), url: operator.metricsUrl, probesUrl: operator.probesUrl, identity: identity ?? null });
