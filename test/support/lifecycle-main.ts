// A process running one operator, for tests of how the process lives and ends:
//   LIFECYCLE_CASE=unreachable  the widget operator against the kubeconfig's (unreachable) API
//                               server, server: false, cacheSyncTimeoutMs from LIFECYCLE_SYNC_MS;
//                               prints {"outcome":"start-error",...} when start() fails
//   LIFECYCLE_CASE=guard        a started guard, then an unhandled rejection and an uncaught
//                               exception; prints the counter and exits 0 if it survived both
//   LIFECYCLE_CASE=memory       the widget operator against the kubeconfig's API server, started
//                               with optimizeForSize from LIFECYCLE_OPTIMIZE (unset: the default);
//                               prints whether V8 takes the code cached in LIFECYCLE_CACHED (made
//                               under --optimize-for-size) before and after start()
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { pino } from 'pino';
import { createOperator } from '../../lib/index.js';
import { Metrics } from '../../lib/runtime/index.js';
import { guardProcess } from '../../lib/runtime/guard.js';
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
    // V8 takes cached code only under the flags it was made with (heap sizes aside). A new
    // file name each time: V8 would otherwise reuse its first compilation and not look at the cache.
    let probes = 0;
    const taken = () => !new Script(cached.source, { filename: `probe-${++probes}.js`, cachedData: Buffer.from(cached.data, 'base64') }).cachedDataRejected;
    const optimize = process.env['LIFECYCLE_OPTIMIZE'];
    const operator = createOperator({ name: 'memory-operator', reconcilers: widgetReconcilers, server: false, logger: pino({ level: 'silent' }) });
    const before = taken();
    await operator.start({ handleSignals: false, ...(optimize === undefined ? {} : { optimizeForSize: optimize === 'true' }) });
    emit({ outcome: 'memory', before, after: taken() });
    await operator.stop();
    break;
  }
  default:
    throw new Error(`unknown LIFECYCLE_CASE ${process.env['LIFECYCLE_CASE']}`);
}
