// A process running one operator, for tests of how the process lives and ends:
//   LIFECYCLE_CASE=unreachable  the widget operator against the kubeconfig's (unreachable) API
//                               server, server: false, cacheSyncTimeoutMs from LIFECYCLE_SYNC_MS;
//                               prints {"outcome":"start-error",...} when start() fails
//   LIFECYCLE_CASE=guard        a started guard, then an unhandled rejection and an uncaught
//                               exception; prints the counter and exits 0 if it survived both
//   LIFECYCLE_CASE=guard-exit   a started guard, then process.exit(4) (in an async function with
//                               LIFECYCLE_ASYNC set) with an exit listener that throws; prints
//                               {"outcome":"still running"} every 100 ms until it ends
//   LIFECYCLE_CASE=memory       the widget operator against the kubeconfig's API server, started
//                               with optimizeForSize from LIFECYCLE_OPTIMIZE (unset: the default;
//                               'true', 'false' or JSON options), after --heap-growing-percent=300
//                               is set as a user's flag; V8 traces on stdout how far the heap
//                               may grow after a full collection before and after start(), once
//                               the live heap has grown by LIFECYCLE_GROW_MIB (default 0), and once
//                               that is released (4 "[HeapController] factor" lines); logs on stderr
import 'reflect-metadata';
import { runInNewContext } from 'node:vm';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { pino } from 'pino';
import { createOperator } from '../../lib/index.js';
import { eventually } from '../../lib/testing/index.js';
import { Metrics } from '../../lib/runtime/index.js';
import { guardProcess } from '../../lib/runtime/guard.js';
import { memoryModeLooks, ownHeapGrowthFlag } from '../../lib/runtime/memory.js';
import { widgetReconcilers } from './widget-operator.js';

const emit = (fields: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(fields)}\n`);

switch (process.env['LIFECYCLE_CASE']) {
  case 'unreachable': {
    const operator = createOperator({
      name: 'lifecycle-operator', reconcilers: widgetReconcilers, server: false,
      cacheSyncTimeoutMs: Number(process.env['LIFECYCLE_SYNC_MS'] ?? 3000), logger: pino({ level: 'silent' }),
    });
    const started = Date.now();
    try {
      await operator.start({ handleSignals: false });
      emit({ outcome: 'started' });
    } catch (err) {
      emit({ outcome: 'start-error', name: (err as Error).name, message: (err as Error).message, afterMs: Date.now() - started });
      process.exitCode = 3;
    }
    break;
  }
  case 'guard': {
    const metrics = new Metrics();
    const logger = pino({ level: 'error' });
    const unguard = guardProcess(logger, metrics.unhandledErrors());
    void Promise.reject(new Error('a promise nobody awaited'));
    setTimeout(() => { throw new Error('a throwing timer'); }, 10);
    setTimeout(() => {
      void metrics.text().then((text) => {
        emit({ outcome: 'survived', counters: text.split('\n').filter((l) => l.startsWith('maestro_unhandled_errors_total')) });
        unguard();
      });
    }, 200);
    break;
  }
  case 'guard-exit': {
    // process.exit(4) (from an async function with LIFECYCLE_ASYNC set, where the throw
    // becomes a rejection) with an `exit` listener that throws, a timer keeping the loop alive.
    const metrics = new Metrics();
    guardProcess(pino({ level: 'error' }), metrics.unhandledErrors());
    process.on('exit', () => { throw new Error('a throwing exit listener'); });
    setInterval(() => emit({ outcome: 'still running' }), 100);
    const exitLater = async () => { await Promise.resolve(); process.exit(4); };
    if (process.env['LIFECYCLE_ASYNC']) setTimeout(() => void exitLater(), 10);
    else setTimeout(() => process.exit(4), 10);
    break;
  }
  case 'memory': {
    // V8's growth of the old generation set by the process itself before start() (which the
    // mode cannot see), unless the command line sets it: for the test to tell apart from the
    // memory mode's (25 %) and from the growth past its bound (100 %).
    if (!process.execArgv.includes('--heap-growing-percent=300')) setFlagsFromString('--heap-growing-percent=300');
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    // A full collection traced by V8: its "[HeapController] factor F" line on stdout says how
    // far the old generation may now grow (F times the live data). Traced alone, and stdout
    // holds V8's trace alone (the logs go to stderr): C's stdio writes it in blocks.
    const probe = () => {
      // First untraced: gc() during incremental marking finishes that marking as a collection of its own.
      collect();
      setFlagsFromString('--trace-gc-verbose');
      collect();
      setFlagsFromString('--no-trace-gc-verbose');
    };
    const optimize = process.env['LIFECYCLE_OPTIMIZE'];
    // At info: the memory mode's switches are logged (the test reads them).
    const operator = createOperator({ name: 'memory-operator', reconcilers: widgetReconcilers, server: false, logger: pino({ level: 'info' }, pino.destination(2)) });
    probe();
    // LIFECYCLE_GARBAGE_MIB of garbage when start() reads the heap: the mode's base, and the
    // live heap can later fall below it.
    void Array.from({ length: Math.round(Number(process.env['LIFECYCLE_GARBAGE_MIB'] ?? 0) / (800_000 / 2 ** 20)) }, (_, i) => new Array<number>(100_000).fill(i));
    await operator.start({ handleSignals: false, ...(optimize === undefined ? {} : { optimizeForSize: JSON.parse(optimize) as boolean | { untilHeapGrowthMiB: number } }) });
    probe();
    // A full collection, then the mode's next look at the heap (none when the mode is off, or the command line decides).
    const settle = async () => {
      const seen = memoryModeLooks();
      collect();
      if (optimize !== 'false' && ownHeapGrowthFlag(process.execArgv) === undefined) await eventually(() => memoryModeLooks() > seen, { timeoutMs: 10_000, intervalMs: 20 });
    };
    // LIFECYCLE_GROW_MIB more live data, in arrays of 100,000 small integers (8 bytes each).
    const kept = Array.from({ length: Math.round(Number(process.env['LIFECYCLE_GROW_MIB'] ?? 0) / (800_000 / 2 ** 20)) }, (_, i) => new Array<number>(100_000).fill(i));
    await settle();
    probe();
    const grownMiB = Math.round(getHeapStatistics().used_heap_size / 2 ** 20);
    kept.length = 0;
    await settle();
    probe();
    const shrunkMiB = Math.round(getHeapStatistics().used_heap_size / 2 ** 20);
    process.stderr.write(`${JSON.stringify({ outcome: 'memory', grownMiB, shrunkMiB })}\n`);
    await operator.stop();
    break;
  }
  default:
    throw new Error(`unknown LIFECYCLE_CASE ${process.env['LIFECYCLE_CASE']}`);
}
