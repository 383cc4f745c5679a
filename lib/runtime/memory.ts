/**
 * V8's memory mode for a started operator.
 *
 * @module
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics, setFlagsFromString, type GCProfilerResult } from 'node:v8';
import type { Logger } from '../log/index.js';

/** Options of {@link optimizeForSize}. */
export interface MemoryModeOptions {
  /**
   * How far (MiB, ≥ 0) the live heap, measured after each full collection, may grow beyond
   * its size when the mode was set (the loaded modules) with V8 favouring memory; beyond it the
   * mode ends (the heap may then grow to twice the live data), and back below three quarters
   * of it the mode returns. Default 24. `Infinity`: favour memory whatever the heap; `0`:
   * only until the heap grows at all.
   */
  untilHeapGrowthMiB?: number;
}

/** The default of {@link MemoryModeOptions.untilHeapGrowthMiB}. */
export const DEFAULT_UNTIL_HEAP_GROWTH_MIB = 24;

/** What is wrong with `start()`'s `optimizeForSize` option (empty when nothing is). */
export function memoryModeProblems(option: unknown): string[] {
  if (option === undefined || typeof option === 'boolean') return [];
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    return [`start({ optimizeForSize }) must be true, false or { untilHeapGrowthMiB }, not ${shown(option)}`];
  }
  const unknown = Object.keys(option).filter((key) => key !== 'untilHeapGrowthMiB');
  if (unknown.length > 0) return [`start({ optimizeForSize }) knows only untilHeapGrowthMiB, not ${unknown.join(', ')}`];
  const growth: unknown = (option as MemoryModeOptions).untilHeapGrowthMiB;
  if (growth === undefined || (typeof growth === 'number' && growth >= 0)) return [];
  return [`start({ optimizeForSize: { untilHeapGrowthMiB } }) must be a number of MiB, 0 or more (Infinity: always), not ${shown(growth)}`];
}

/** A value as a message quotes it: numbers as numbers (NaN too), the rest as JSON. */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value) ?? typeof value;
}

let started = false;
let favouringSize = false;

/**
 * Makes V8 favour memory over speed, as `node --optimize-for-size` does, while the operator's
 * live heap is near what its modules take: the old generation grows less before it is
 * collected, which bounds the peak of a small operator (measured at N = 1,000 parents: peak
 * RSS 114–121 MiB against 145–146 without, bench/README.md, *Bundled*; for about 10 % more
 * CPU during convergence). The price grows with the heap, as each of the many more full
 * collections marks all of it (at N = 10,000 parents, 65 MiB live: 86 full collections
 * instead of 9, 21 % more CPU); so once the live heap has grown by
 * {@link MemoryModeOptions.untilHeapGrowthMiB} the mode ends and the heap may grow to twice
 * the live data before a full collection (`--heap-growing-percent=100`, as Go's default
 * `GOGC=100` lets controller-runtime's; V8's own growth allowed 3 to 4 times), and back
 * below three quarters of that growth the memory mode returns. (Measured from what the
 * modules take, read when the mode is set, not from zero: an operator run from its `dist/`
 * holds about 40 MiB at rest, bundled 12–15.)
 *
 * Why at run time and not on the command line: under any V8 flag that changes generated
 * code, V8 rejects the code Node ships cached for its own modules (it checks a hash of the
 * flags) and Node compiles them again at every start; with the heavier collections at start
 * that is about 70 ms of CPU (setting it here saves about 50 ms of that: the rest is the
 * flag's cost while the caches fill). Set when the operator starts, after its modules are loaded and
 * before its caches fill. (The flag's implied young-generation size is not applied at run
 * time; the operator flags give it on the command line: `--max-semi-space-size=1`.)
 *
 * Each switch is logged at info on `logger` (`optimizeForSize`, `liveHeapMiB`, `boundMiB`).
 * Process-wide: the first call's options and logger hold for the life of the process (also after the
 * operator stops, or fails to start); later calls do nothing. The heap is looked at after
 * full collections only (a `gc` performance observer and `v8.GCProfiler`, neither of which
 * keeps the process alive).
 */
export function optimizeForSize(options: MemoryModeOptions = {}, logger?: Logger): void {
  if (started) return;
  started = true;
  const growth = (options.untilHeapGrowthMiB ?? DEFAULT_UNTIL_HEAP_GROWTH_MIB) * 2 ** 20;
  favour(true);
  if (growth === Infinity) return;
  // What the modules hold (with some garbage, which makes the bound a little more generous).
  const base = getHeapStatistics().used_heap_size;
  // The heap's size is taken as V8 recorded it at the end of each full collection: read later,
  // from the observer, it would count what was allocated since (measured: up to +40 MiB).
  // The profiler keeps every collection's statistics (about 4 KiB each) until it is stopped:
  // stopped at each full collection, and after every 64 others, it holds at most about 256 KiB.
  const profiler = new GCProfiler();
  profiler.start();
  let collections = 0;
  new PerformanceObserver((list) => {
    const entries = list.getEntries();
    collections += entries.length;
    const full = entries.some(isFullCollection);
    if (!full && collections < 64) return;
    collections = 0;
    const live = liveAfterLastFullCollection(profiler.stop());
    profiler.start();
    if (live === undefined) return;
    const bound = base + growth;
    if (favouringSize ? live <= bound : live >= base + growth * 0.75) return;
    const switchTo = !favouringSize;
    favour(switchTo);
    // Rare (the heap crosses the bound), and it explains a change in RSS: at info.
    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    logger?.info({ optimizeForSize: switchTo, liveHeapMiB: mib(live), boundMiB: mib(bound) }, switchTo
      ? 'memory mode on again: the live heap is back below three quarters of the bound; V8 favours memory'
      : 'memory mode off: the live heap passed the bound; V8 favours speed, the heap may grow to twice the live data');
  }).observe({ entryTypes: ['gc'] });
}

/** Whether a `gc` performance entry is a full (mark-sweep-compact) collection. */
export function isFullCollection(entry: PerformanceEntry): boolean {
  return (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}

/** The used heap after the last full collection in a GC profile (`v8.GCProfiler`'s result). */
function liveAfterLastFullCollection(profile: GCProfilerResult): number | undefined {
  const last = profile.statistics.findLast((entry) => entry.gcType === 'MarkSweepCompact');
  return last?.afterGC.heapStatistics.usedHeapSize;
}

function favour(size: boolean): void {
  favouringSize = size;
  // Out of the memory mode, V8 would let the heap grow to 3 or 4 times the live data (measured:
  // peak RSS 328 MiB at 66 MiB live); twice is what Go's GOGC=100 allows.
  setFlagsFromString(size ? '--optimize-for-size --heap-growing-percent=0' : '--no-optimize-for-size --heap-growing-percent=100');
}
