// A process running one operator, for tests of how the process lives and ends:
//   LIFECYCLE_CASE=unreachable  the widget operator against the kubeconfig's (unreachable) API
//                               server, server: false, cacheSyncTimeoutMs from LIFECYCLE_SYNC_MS;
//                               prints {"outcome":"start-error",...} when start() fails
//   LIFECYCLE_CASE=guard        a started guard, then an unhandled rejection and an uncaught
//                               exception; prints the counter and exits 0 if it survived both
import 'reflect-metadata';
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
  default:
    throw new Error(`unknown LIFECYCLE_CASE ${process.env['LIFECYCLE_CASE']}`);
}
