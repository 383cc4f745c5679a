// The side of a contender process that talks to the harness over the IPC channel:
// it starts the operator, reports `ready`, answers `snapshot` requests with its counters,
// and on `stop` stops the operator, reports its final counters and exits.
import { countingActive, snapshotRequests, type RequestCounters } from './requests.js';

/** What a contender process reports. */
export interface ContenderStats {
  requests: RequestCounters;
  /** Reconciles executed (conducts / handler runs that did the work), by the contender's own count. */
  reconciles: number;
  /** process.cpuUsage(), microseconds. */
  cpu: { user: number; system: number };
  /** Peak resident set size so far (getrusage's maxrss), bytes. */
  maxRssBytes: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Since the process started. */
  uptimeMs: number;
}

/** Harness → contender. */
export type HarnessMessage = { cmd: 'snapshot'; id: number } | { cmd: 'stop' };
/** Contender → harness. */
export type ContenderMessage =
  | { type: 'ready'; stats: ContenderStats }
  | { type: 'snapshot'; id: number; stats: ContenderStats }
  | { type: 'final'; stats: ContenderStats }
  | { type: 'failed'; error: string };

/** An operator under test. */
export interface Operator {
  /** Resolves once it watches (and would reconcile) the namespace. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Reconciles executed so far. */
  reconciles(): number;
}

/** The environment the harness gives every contender. */
export interface ContenderEnv {
  kubeconfigPath: string;
  namespace: string;
  /** Reconciles at once (the peer ignores it: it handles events one at a time). */
  concurrency: number;
}

export function contenderEnv(): ContenderEnv {
  const kubeconfigPath = process.env['KUBECONFIG'];
  const namespace = process.env['BENCH_NAMESPACE'];
  if (!kubeconfigPath || !namespace) throw new Error('KUBECONFIG and BENCH_NAMESPACE must be set (contenders are started by bench/run.js)');
  return { kubeconfigPath, namespace, concurrency: Number(process.env['BENCH_CONCURRENCY'] ?? '8') };
}

function stats(operator: Operator | undefined): ContenderStats {
  const memory = process.memoryUsage();
  return {
    requests: snapshotRequests(),
    reconciles: operator?.reconciles() ?? 0,
    cpu: process.cpuUsage(),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    uptimeMs: Math.round(process.uptime() * 1000),
  };
}

function send(message: ContenderMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Runs a contender: `make` builds the operator from the environment. */
export async function serve(make: (env: ContenderEnv) => Operator | Promise<Operator>): Promise<void> {
  if (!process.send) {
    process.stderr.write('contenders run under bench/run.js (they need its IPC channel)\n');
    process.exit(2);
  }
  if (!countingActive()) process.stderr.write('warning: the request counter is not preloaded (node --import ./dist/bench/count-requests.js)\n');
  // The harness went away: nothing to report to.
  process.on('disconnect', () => process.exit(0));
  let operator: Operator | undefined;
  let stopping = false;
  process.on('message', (message: HarnessMessage) => {
    if (message.cmd === 'snapshot') {
      void send({ type: 'snapshot', id: message.id, stats: stats(operator) });
    } else if (message.cmd === 'stop' && !stopping) {
      stopping = true;
      void (async () => {
        try {
          await operator?.stop();
        } finally {
          await send({ type: 'final', stats: stats(operator) });
          process.exit(0);
        }
      })();
    }
  });
  try {
    operator = await make(contenderEnv());
    await operator.start();
    await send({ type: 'ready', stats: stats(operator) });
  } catch (err) {
    await send({ type: 'failed', error: err instanceof Error ? err.stack ?? err.message : String(err) });
    process.exit(1);
  }
}
