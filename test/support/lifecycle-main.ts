// A process running one operator, for tests of how the process lives and ends:
//   LIFECYCLE_CASE=unreachable  the widget operator against the kubeconfig's (unreachable) API
//                               server, server: false, cacheSyncTimeoutMs from LIFECYCLE_SYNC_MS;
//                               prints {"outcome":"start-error",...} when start() fails
//   LIFECYCLE_CASE=guard        a started guard, then an unhandled rejection and an uncaught
//                               exception; prints the counter and exits 0 if it survived both
//   LIFECYCLE_CASE=memory       the widget operator against the kubeconfig's API server, started
//                               with optimizeForSize from LIFECYCLE_OPTIMIZE (unset: the default);
//                               ('true', 'false' or JSON options); prints whether V8 takes the code
//                               cached in LIFECYCLE_CACHED (made under --expose-gc --optimize-for-size) before
//                               and after start(), once the live heap has grown by LIFECYCLE_GROW_MIB
//                               (default 0), and once that is released
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Script, runInNewContext } from 'node:vm';
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { pino } from 'pino';
import { createOperator } from '../../lib/index.js';
import { eventually } from '../../lib/testing/index.js';
import { Metrics } from '../../lib/runtime/index.js';
import { guardProcess } from '../../lib/runtime/guard.js';
import { isFullCollection } from '../../lib/runtime/memory.js';
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
  case 'memory': {
    const cached = JSON.parse(readFileSync(process.env['LIFECYCLE_CACHED']!, 'utf8')) as { source: string; data: string };
    // Full collections on demand (the cached code was made under --expose-gc too).
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    // V8 takes cached code only under the flags it was made with (heap sizes aside). A new
    // file name each time: V8 would otherwise reuse its first compilation and not look at the cache.
    let probes = 0;
    const taken = () => !new Script(cached.source, { filename: `probe-${++probes}.js`, cachedData: Buffer.from(cached.data, 'base64') }).cachedDataRejected;
    const optimize = process.env['LIFECYCLE_OPTIMIZE'];
    // At info: the memory mode's switches are logged (the test reads them from stdout).
    const operator = createOperator({ name: 'memory-operator', reconcilers: widgetReconcilers, server: false, logger: pino({ level: 'info' }) });
    const before = taken();
    await operator.start({ handleSignals: false, ...(optimize === undefined ? {} : { optimizeForSize: JSON.parse(optimize) as boolean | { untilHeapGrowthMiB: number } }) });
    const after = taken();
    let fullCollections = 0;
    new PerformanceObserver((list) => {
      fullCollections += list.getEntries().filter(isFullCollection).length;
    }).observe({ entryTypes: ['gc'] });
    // A full collection, then a turn after the observers (the operator's first) have seen it.
    const settle = async () => {
      const seen = fullCollections;
      collect();
      await eventually(() => fullCollections > seen, { timeoutMs: 10_000, intervalMs: 10 });
      await turn();
    };
    // LIFECYCLE_GROW_MIB more live data, in arrays of 100,000 small integers (8 bytes each).
    const kept = Array.from({ length: Math.round(Number(process.env['LIFECYCLE_GROW_MIB'] ?? 0) / (800_000 / 2 ** 20)) }, (_, i) => new Array<number>(100_000).fill(i));
    await settle();
    const grown = taken();
    const grownMiB = Math.round(getHeapStatistics().used_heap_size / 2 ** 20);
    kept.length = 0;
    await settle();
    const shrunkMiB = Math.round(getHeapStatistics().used_heap_size / 2 ** 20);
    emit({ outcome: 'memory', before, after, grown, grownMiB, shrunk: taken(), shrunkMiB });
    await operator.stop();
    break;
  }
  default:
    throw new Error(`unknown LIFECYCLE_CASE ${process.env['LIFECYCLE_CASE']}`);
}
