/**
 * V8's memory mode for a started operator.
 *
 * @module
 */
import { GCProfiler, getHeapStatistics, setFlagsFromString, type GCProfilerResult } from 'node:v8';
import type { Logger } from '../log/index.js';

/** Options of {@link optimizeForSize}. */
export interface MemoryModeOptions {
  /**
   * How far (MiB, ≥ 0) the live heap, measured after each full collection, may grow beyond
   * its size when the mode was set (the loaded modules) with V8 favouring memory; beyond it the
   * mode ends (the heap may then grow to twice the live data), and back below three quarters
   * of it the mode returns. Default 24. `Infinity`: favour memory whatever the heap; `0`:
   * only until the heap grows at all (the mode then does not return).
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
let looks = 0;

/** How far (%) the old generation may grow beyond the live data before a full collection, in the mode. */
export const MEMORY_MODE_GROWTH_PERCENT = 25;

/** The same out of the mode: twice the live data, as Go's default `GOGC=100` lets controller-runtime's heap grow. */
export const SPEED_MODE_GROWTH_PERCENT = 100;

/** How often (ms) the mode looks at the live heap. */
const LOOK_EVERY_MS = 1_000;

/**
 * Makes V8 favour memory over speed while the operator's live heap is near what its modules
 * take: after each full collection the old generation may grow by a quarter of the live data
 * (and by V8's minimum step of 8 MiB) before the next (`--heap-growing-percent=25`, where
 * V8's own heuristic allows 1.1 to 4 times), which bounds the peak of a small operator
 * (measured at N = 1,000 parents with a 1 MiB young generation: peak RSS 103–106 MiB;
 * 132–136 with no mode in an earlier run, bench/README.md). The price grows with the heap,
 * as each of the more frequent full collections marks all of it; so once the live heap has
 * grown by {@link MemoryModeOptions.untilHeapGrowthMiB} the mode ends and the heap may grow to twice
 * the live data before a full collection (`--heap-growing-percent=100`, as Go's default
 * `GOGC=100` lets controller-runtime's), and back below three quarters of that growth the
 * memory mode returns. (Measured from what the modules take, read when the mode is set, not
 * from zero: an operator run from its `dist/` holds about 40 MiB at rest, bundled 12–15.)
 *
 * Why not `--optimize-for-size`, which the mode was before: it bounds the growth more
 * tightly (1.3 times, a 2 MiB step) and changes more in V8 than that; with the `gc` observer
 * it had, it cost 0.14 s more CPU per 1,000 parents converged (the observer about 0.04 s of
 * it) and a peak 3–5 MiB higher (bench/README.md, *The memory mode without
 * --optimize-for-size*). Set when the operator starts, after its modules are loaded (the
 * bound is measured from what they take), and before its caches fill.
 *
 * Each switch is logged at info on `logger` (`optimizeForSize`, `liveHeapMiB`, `boundMiB`).
 * A process started with its own `--heap-growing-percent=N` or `--optimize-for-size` keeps
 * it: the mode then stays off and says so at info (`flag`). (A flag set later with
 * `v8.setFlagsFromString` cannot be seen, and is overwritten.) Process-wide: the first
 * call's options and logger hold for the life of the process (also after the operator
 * stops, or fails to start); later calls do nothing. The live heap is the used heap at the
 * end of the last full collection, which `v8.GCProfiler` records, looked at once a second by
 * a timer that does not keep the process alive. (A `gc` performance observer would look at
 * once, but it runs JavaScript at every collection, several hundred per 1,000 parents
 * converged with a 1 MiB young generation, about 85 with the operators' 4 MiB: about 40 ms
 * of CPU at 1 MiB, for a switch that a second later does as well.)
 */
export function optimizeForSize(options: MemoryModeOptions = {}, logger?: Logger): void {
  if (started) return;
  started = true;
  const own = ownHeapGrowthFlag(process.execArgv);
  if (own !== undefined) {
    // The process's own choice of how the heap grows holds: the mode would overwrite it.
    logger?.info({ optimizeForSize: false, flag: own }, `memory mode off: the process was started with ${own}, which decides how the heap grows`);
    return;
  }
  const growth = (options.untilHeapGrowthMiB ?? DEFAULT_UNTIL_HEAP_GROWTH_MIB) * 2 ** 20;
  favour(true);
  if (growth === Infinity) return;
  // What the modules hold (with some garbage, which makes the bound a little more generous).
  const base = getHeapStatistics().used_heap_size;
  const bound = base + growth;
  // The heap's size as V8 recorded it at the end of each full collection: read at any other
  // time it would count what was allocated since (measured: up to +40 MiB). The profiler keeps
  // every collection's statistics (about 4 KiB each) until it is stopped: a second's worth.
  const profiler = new GCProfiler();
  profiler.start();
  setInterval(() => {
    const live = liveAfterLastFullCollection(profiler.stop());
    profiler.start();
    looks += 1;
    // With no growth allowed (0) the mode does not return: at its base it would switch every second.
    if (live === undefined || (favouringSize ? live <= bound : growth === 0 || live >= base + growth * 0.75)) return;
    const switchTo = !favouringSize;
    favour(switchTo);
    // Rare (the heap crosses the bound), and it explains a change in RSS: at info.
    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    logger?.info({ optimizeForSize: switchTo, liveHeapMiB: mib(live), boundMiB: mib(bound) }, switchTo
      ? 'memory mode on again: the live heap is back below three quarters of the growth the bound allows; the heap may grow by a quarter of the live data'
      : 'memory mode off: the live heap passed the bound; the heap may grow to twice the live data');
  }, LOOK_EVERY_MS).unref();
}

/**
 * The flag among `execArgv` (the process's own command line) that already decides how V8's
 * old generation grows, `--heap-growing-percent=N` or `--optimize-for-size` (with dashes or
 * underscores, as V8 reads them), if any. (Node refuses either in `NODE_OPTIONS`.)
 *
 * @internal
 */
export function ownHeapGrowthFlag(execArgv: readonly string[]): string | undefined {
  return execArgv.findLast((arg) => /^--(heap[-_]growing[-_]percent=|optimize[-_]for[-_]size$)/.test(arg));
}

/**
 * How many times the memory mode has looked at the live heap in this process (for tests,
 * which wait for the next look instead of sleeping).
 *
 * @internal
 */
export function memoryModeLooks(): number {
  return looks;
}

/** The used heap after the last full collection in a GC profile (`v8.GCProfiler`'s result). */
function liveAfterLastFullCollection(profile: GCProfilerResult): number | undefined {
  const last = profile.statistics.findLast((entry) => entry.gcType === 'MarkSweepCompact');
  return last?.afterGC.heapStatistics.usedHeapSize;
}

function favour(size: boolean): void {
  favouringSize = size;
  setFlagsFromString(`--heap-growing-percent=${size ? MEMORY_MODE_GROWTH_PERCENT : SPEED_MODE_GROWTH_PERCENT}`);
}
