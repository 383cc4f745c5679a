// The side of a Node contender process that talks to the harness, in JSON lines (the
// harness's on stdin, its own on fd 3, bench/children.ts): it starts the operator, reports
// `ready`, answers `snapshot` requests with its counters, and on `stop` stops the operator,
// reports its final counters and waits for `exit` (so the harness can read the process's
// /proc figures after the operator stopped). The controller-runtime contender speaks the
// same messages on stdin and stdout.
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ProcSample } from './proc.js';
import { countingActive, lastRequestMs, snapshotRequests, type RequestCounters } from './requests.cjs';

/** What a contender process reports about itself. CPU and RSS are not among it: the harness reads them from /proc. */
export interface SelfReport {
  requests: RequestCounters;
  /** Reconciles executed (conducts / handler runs that did the work), by the contender's own count. */
  reconciles: number;
  /** Heap in use: V8's heapUsed for Node, Go's HeapAlloc; after a full GC when the snapshot asked for one. */
  heapUsedBytes: number;
  /** Since the process started. */
  uptimeMs: number;
  /** When (ms since the process started) it last sent a request or finished a reconcile. */
  lastActivityMs: number;
}

/** A contender's report plus the harness's reading of its /proc at the time. */
export interface ContenderStats extends SelfReport {
  proc: ProcSample;
}

/** Harness → contender. `gc`: collect garbage first, so `heapUsedBytes` is the live heap. */
export type HarnessMessage = { cmd: 'snapshot'; id: number; gc?: boolean } | { cmd: 'stop' } | { cmd: 'exit' };
/** Contender → harness. */
export type ContenderMessage =
  | { type: 'ready'; stats: SelfReport }
  | { type: 'snapshot'; id: number; stats: SelfReport }
  | { type: 'final'; stats: SelfReport }
  | { type: 'failed'; error: string };

/** An operator under test. */
export interface Operator {
  /** Resolves once it watches (and would reconcile) the namespace. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Reconciles executed so far. */
  reconciles(): number;
  /** When (performance.now()) the last reconcile finished; 0 before any. */
  lastReconcileMs(): number;
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

/**
 * A full GC, for reading the live heap. Not `node --expose-gc`: a V8 flag on the command line
 * makes V8 reject the code Node caches for its own modules (V8 checks a hash of the flags),
 * about 40 ms more CPU at every start, which no deployed operator pays. The flag is set on
 * the first collection instead, after the start was measured.
 */
let collectGarbage: (() => void) | undefined;
function gc(): void {
  if (!collectGarbage) {
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as () => void;
  }
  collectGarbage();
}
// BENCH_HEAP_SNAPSHOT_DIR (set by --heap-snapshot): after every full GC the harness asks
// for, also write a heap snapshot there (for diagnosis: it costs CPU and memory, so such
// runs are not for published figures).
const snapshotDir = process.env['BENCH_HEAP_SNAPSHOT_DIR'];
let snapshots = 0;

function stats(operator: Operator | undefined, collect = false): SelfReport {
  if (collect) gc();
  if (collect && snapshotDir) {
    const file = writeHeapSnapshot(join(snapshotDir, `${process.env['BENCH_LABEL'] ?? 'contender'}-${process.pid}-${++snapshots}.heapsnapshot`));
    process.stderr.write(`heap snapshot: ${file}\n`);
  }
  return {
    requests: snapshotRequests(),
    reconciles: operator?.reconciles() ?? 0,
    heapUsedBytes: process.memoryUsage().heapUsed,
    uptimeMs: Math.round(performance.now()),
    lastActivityMs: Math.max(lastRequestMs(), operator?.lastReconcileMs() ?? 0),
  };
}

/**
 * The file descriptor on which a Node contender writes its messages to the harness (its
 * stdout carries the operator's log).
 */
export const CHANNEL_FD = 3;

/** The harness's end of the channel: {@link CHANNEL_FD} when it is a pipe (bench/children.ts). */
function channel(): Socket | undefined {
  try {
    // Node makes the pipes of a child's stdio as socket pairs.
    const stat = fstatSync(CHANNEL_FD);
    if (!stat.isFIFO() && !stat.isSocket()) return undefined;
  } catch {
    return undefined;
  }
  const socket = new Socket({ fd: CHANNEL_FD, readable: false });
  // The harness went away (EPIPE): stdin's end says so and ends the process.
  socket.on('error', () => undefined);
  return socket;
}

let out: Socket | undefined;

function send(message: ContenderMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!out) return resolve();
    out.write(`${JSON.stringify(message)}\n`, () => resolve());
  });
}

/** Calls `handle` with each message the harness writes on stdin; `closed` when it closes it (the harness went away). */
function receive(handle: (message: HarnessMessage) => void, closed: () => void): void {
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      let message: HarnessMessage | undefined;
      try {
        message = line ? JSON.parse(line) as HarnessMessage : undefined;
      } catch {
        process.stderr.write(`not a harness message: ${line}\n`);
      }
      if (message) handle(message);
    }
  });
  process.stdin.on('end', closed);
}

/** Runs a contender: `make` builds the operator from the environment. */
export async function serve(make: (env: ContenderEnv) => Operator | Promise<Operator>): Promise<void> {
  out = channel();
  if (!out) {
    process.stderr.write(`contenders run under bench/run.js (they write to it on fd ${CHANNEL_FD})\n`);
    process.exit(2);
  }
  if (!countingActive()) process.stderr.write('warning: the request counter is not preloaded (node --require ./dist/bench/count-requests.cjs)\n');
  let operator: Operator | undefined;
  let stopping = false;
  receive((message) => {
    if (message.cmd === 'snapshot') {
      void send({ type: 'snapshot', id: message.id, stats: stats(operator, message.gc) });
    } else if (message.cmd === 'stop' && !stopping) {
      stopping = true;
      void (async () => {
        try {
          await operator?.stop();
        } finally {
          await send({ type: 'final', stats: stats(operator) });
        }
      })();
    } else if (message.cmd === 'exit') {
      process.exit(0);
    }
  }, () => process.exit(0)); // the harness went away: nothing to report to
  try {
    operator = await make(contenderEnv());
    await operator.start();
    await send({ type: 'ready', stats: stats(operator) });
  } catch (err) {
    await send({ type: 'failed', error: err instanceof Error ? err.stack ?? err.message : String(err) });
    process.exit(1);
  }
}
