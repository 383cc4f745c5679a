// Summaries (median, min–max over rounds), the targets, and the markdown table.
import type { CacheMemoryResult } from './cache-memory.js';
import type { CacheResults } from './cache.js';
import type { ContenderStats } from './contender.js';
import type { ContenderName, RunResult } from './convergence.js';
import type { OverheadResult } from './overhead.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

const MiB = 2 ** 20;
const listWatch = (s: ContenderStats) => (s.requests.byKind.list ?? 0) + (s.requests.byKind.watch ?? 0);
const failures = (s: ContenderStats) => Object.entries(s.requests.byStatus).filter(([k]) => k !== '2xx').reduce((sum, [, v]) => sum + v, 0);
const WRITE_KINDS = ['patch', 'patchStatus', 'post', 'put', 'delete'] as const;
/** Write requests (patch, patchStatus, post, put, delete) counted in `s`. */
export const writeRequests = (s: ContenderStats): number => WRITE_KINDS.reduce((sum, k) => sum + (s.requests.byKind[k] ?? 0), 0);

/** Per-contender summary of the runs at one N. */
export interface ContenderSummary {
  n: number;
  runs: number;
  failed: number;
  convergeS: Spread;
  requestsPerParent: Spread;
  /** List and watch requests up to convergence (absolute). */
  listWatchRequests: Spread;
  /** Responses other than 2xx up to convergence (e.g. 409 Conflict). */
  failedResponses: Spread;
  /** TCP connections opened up to convergence. */
  connections: Spread;
  reconcilesConvergence: Spread;
  /** CPU (/proc utime+stime) from the process start until it reported ready (caches synced, no Site yet). */
  cpuStartS: Spread;
  /** RSS (/proc VmRSS) when it reported ready, no Site yet. */
  rssStartMiB: Spread;
  /** Peak RSS (/proc VmHWM) over the whole life of the process (convergence and steady state). */
  peakRssMiB: Spread;
  /** CPU of the whole life of the process. */
  cpuS: Spread;
  /** CPU from ready until converged (and quiet). */
  cpuConvergenceS: Spread;
  /** Live heap after convergence (after a full GC): V8 heapUsed, Go HeapAlloc. */
  heapMiB: Spread;
  /** kube-apiserver + etcd CPU over the span of cpuConvergenceS (runs that measured it). */
  controlPlaneCpuS: Spread;
  /** CPU from the first create until the last parent was Ready (RunResult.untilReady; runs that measured it). */
  cpuUntilReadyS: Spread;
  /** kube-apiserver + etcd CPU over the span of cpuUntilReadyS. */
  controlPlaneCpuUntilReadyS: Spread;
  /** Busy share of the machine's CPU over the span of cpuUntilReadyS, in %. */
  machineBusyUntilReadyPct: Spread;
  steadyS: Spread;
  steadyChanged: number;
  steadyReconciles: Spread;
  steadyRequestsPerChanged: Spread;
  startupReadyS: Spread;
  startupPassS: Spread;
  startupWrites: Spread;
  startupReconciles: Spread;
  startupRequests: Spread;
  startupCpuS: Spread;
  startupPeakRssMiB: Spread;
  startupHeapMiB: Spread;
  /** Requests of the convergence phase by kind (medians). */
  requestsByKind: Record<string, number>;
}

export function summarizeContender(runs: readonly RunResult[]): ContenderSummary {
  const ok = runs.filter((r) => !r.error);
  const of = (f: (r: RunResult) => number) => spread(ok.map(f));
  const steady = ok.filter((r) => r.steady);
  const ofSteady = (f: (r: RunResult & { steady: NonNullable<RunResult['steady']> }) => number) => spread(steady.map((r) => f(r as RunResult & { steady: NonNullable<RunResult['steady']> })));
  // A startup whose pass was not seen to its end says nothing of the pass (see RunResult.startup.complete).
  const startup = ok.filter((r) => r.startup && (r.startup.complete ?? (r.startup.quiet.reconciles === 0 || r.startup.quiet.reconciles >= r.n)));
  const ofStartup = (f: (s: NonNullable<RunResult['startup']>) => number) => spread(startup.map((r) => f(r.startup!)));
  const kinds = new Set(ok.flatMap((r) => Object.keys(r.converged.requests.byKind)));
  const requestsByKind: Record<string, number> = {};
  for (const kind of kinds) requestsByKind[kind] = spread(ok.map((r) => r.converged.requests.byKind[kind as keyof typeof r.converged.requests.byKind] ?? 0)).median;
  return {
    n: runs[0]?.n ?? 0,
    runs: runs.length,
    failed: runs.length - ok.length,
    convergeS: of((r) => r.convergeMs / 1000),
    requestsPerParent: of((r) => r.converged.requests.total / r.n),
    listWatchRequests: of((r) => listWatch(r.converged)),
    failedResponses: of((r) => failures(r.converged)),
    connections: of((r) => r.converged.requests.connections.net),
    reconcilesConvergence: of((r) => r.converged.reconciles),
    cpuStartS: of((r) => r.atStart.proc.cpuS),
    rssStartMiB: of((r) => r.atStart.proc.rssBytes / MiB),
    peakRssMiB: of((r) => r.final.proc.peakRssBytes / MiB),
    cpuS: of((r) => r.final.proc.cpuS),
    cpuConvergenceS: of((r) => r.converged.proc.cpuS - r.atStart.proc.cpuS),
    heapMiB: of((r) => r.convergedHeap.heapUsedBytes / MiB),
    controlPlaneCpuS: spread(ok.flatMap((r) => (r.controlPlaneCpuS ? [r.controlPlaneCpuS.apiServer + r.controlPlaneCpuS.etcd] : []))),
    cpuUntilReadyS: spread(ok.flatMap((r) => (r.untilReady ? [r.untilReady.operatorCpuS] : []))),
    controlPlaneCpuUntilReadyS: spread(ok.flatMap((r) => (r.untilReady?.apiServerCpuS !== undefined && r.untilReady.etcdCpuS !== undefined ? [r.untilReady.apiServerCpuS + r.untilReady.etcdCpuS] : []))),
    machineBusyUntilReadyPct: spread(ok.flatMap((r) => (typeof r.untilReady?.machineBusy === 'number' ? [r.untilReady.machineBusy * 100] : []))),
    steadyS: ofSteady((r) => r.steady.readyMs / 1000),
    steadyChanged: steady[0]?.steady?.changed ?? 0,
    steadyReconciles: ofSteady((r) => r.steady.after.reconciles - r.convergedHeap.reconciles),
    steadyRequestsPerChanged: ofSteady((r) => (r.steady.after.requests.total - r.convergedHeap.requests.total) / r.steady.changed),
    startupReadyS: ofStartup((s) => s.readyMs / 1000),
    startupPassS: ofStartup((s) => s.passMs / 1000),
    startupWrites: ofStartup((s) => writeRequests(s.quiet)),
    startupReconciles: ofStartup((s) => s.quiet.reconciles),
    startupRequests: ofStartup((s) => s.quiet.requests.total),
    startupCpuS: ofStartup((s) => s.quiet.proc.cpuS),
    startupPeakRssMiB: ofStartup((s) => s.final.proc.peakRssBytes / MiB),
    startupHeapMiB: ofStartup((s) => s.heap.heapUsedBytes / MiB),
    requestsByKind,
  };
}

/** How a contender's cost grows with N: (value at the larger N − value at the smaller) / (difference of N). */
export interface Growth {
  from: number;
  to: number;
  /** Convergence time per added parent, ms. */
  timeMs: number;
  /** Convergence CPU per added parent, ms. */
  cpuMs: number;
  /** Peak RSS per added parent, KiB. */
  peakRssKiB: number;
  /** Live heap after convergence per added parent, KiB. */
  heapKiB: number;
}

/** The growth between two summaries of one contender (medians); undefined unless `small.n < large.n`. */
export function growth(small: ContenderSummary, large: ContenderSummary): Growth | undefined {
  const dn = large.n - small.n;
  if (!(dn > 0)) return undefined;
  return {
    from: small.n,
    to: large.n,
    timeMs: ((large.convergeS.median - small.convergeS.median) * 1000) / dn,
    cpuMs: ((large.cpuConvergenceS.median - small.cpuConvergenceS.median) * 1000) / dn,
    peakRssKiB: ((large.peakRssMiB.median - small.peakRssMiB.median) * 1024) / dn,
    heapKiB: ((large.heapMiB.median - small.heapMiB.median) * 1024) / dn,
  };
}

export interface OverheadSummary {
  steps: number;
  conductUs: Spread;
  directUs: Spread;
  overheadUsPerStep: Spread;
  conductBytes: Spread;
  directBytes: Spread;
  overheadBytesPerStep: Spread;
}

export function summarizeOverhead(runs: readonly OverheadResult[]): OverheadSummary {
  return {
    steps: runs[0]?.steps ?? 5,
    conductUs: spread(runs.map((r) => r.conduct.usPerCall)),
    directUs: spread(runs.map((r) => r.direct.usPerCall)),
    overheadUsPerStep: spread(runs.map((r) => r.overheadUsPerStep)),
    conductBytes: spread(runs.map((r) => r.conduct.bytesPerCall)),
    directBytes: spread(runs.map((r) => r.direct.bytesPerCall)),
    overheadBytesPerStep: spread(runs.map((r) => r.overheadBytesPerStep)),
  };
}

export interface CacheSummary {
  objects: number;
  /** Fewest objects the Maestro informer held after its sync (less than `objects` is a bug). */
  maestroHeld: number;
  maestroBytes: Spread;
  rawBytes: Spread;
  jsonCached: number;
  jsonServed: number;
  maestroToJson: Spread;
  rawToJson: Spread;
  /** Heap of the whole cache, per mode: the whole-kind informer, metadata only, label-selected (1 in 10). */
  totals: { maestro: Spread; metadata?: Spread; selected?: Spread };
  /** Fewest objects the scoped informers held (metadata: all of them; selected: the matching ones). */
  held: { metadata?: number; selected?: number };
  /** Objects the label-selected informer should hold. */
  selectedExpected?: number;
}

export function summarizeCache(results: CacheResults): CacheSummary {
  const json = (rs: CacheMemoryResult[]) => spread(rs.map((r) => r.jsonBytesCached)).median;
  const jsonCached = json([...results.maestro, ...results.raw]);
  return {
    objects: results.objects,
    maestroHeld: Math.min(...results.maestro.map((r) => r.objects)),
    maestroBytes: spread(results.maestro.map((r) => r.heapBytesPerObject)),
    rawBytes: spread(results.raw.map((r) => r.heapBytesPerObject)),
    jsonCached,
    jsonServed: spread([...results.maestro, ...results.raw].map((r) => r.jsonBytesServed)).median,
    maestroToJson: spread(results.maestro.map((r) => r.heapBytesPerObject / r.jsonBytesCached)),
    rawToJson: spread(results.raw.map((r) => r.heapBytesPerObject / r.jsonBytesCached)),
    totals: {
      maestro: total(results.maestro),
      ...(results.metadata?.length ? { metadata: total(results.metadata) } : {}),
      ...(results.selected?.length ? { selected: total(results.selected) } : {}),
    },
    held: {
      ...(results.metadata?.length ? { metadata: Math.min(...results.metadata.map((r) => r.objects)) } : {}),
      ...(results.selected?.length ? { selected: Math.min(...results.selected.map((r) => r.objects)) } : {}),
    },
    ...(results.selected?.length ? { selectedExpected: results.selected[0]!.expected } : {}),
  };
}

/** Heap of the whole cache (results saved before `heapBytes` existed: per object × objects). */
const total = (rs: readonly CacheMemoryResult[]): Spread => spread(rs.map((r) => r.heapBytes ?? r.heapBytesPerObject * r.objects));

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** The contenders' summaries at one N. */
export interface AtN {
  n: number;
  contenders: Partial<Record<ContenderName, ContenderSummary>>;
}

export interface Summary {
  /** One entry per N, in ascending N. */
  byN: AtN[];
  overhead?: OverheadSummary;
  cache?: CacheSummary;
}

/**
 * The runs of several saved results, for one report: at each N, the runs of the last
 * result that has runs at that N (a newer run at N = 1,000 replaces an older one, while
 * the older result's N = 10,000 runs stay).
 */
export function mergeRuns(saved: ReadonlyArray<readonly RunResult[]>): RunResult[] {
  const latest = new Map<number, readonly RunResult[]>();
  for (const runs of saved) {
    for (const n of new Set(runs.map((r) => r.n))) latest.set(n, runs.filter((r) => r.n === n));
  }
  return [...latest.keys()].sort((a, b) => a - b).flatMap((n) => latest.get(n)!);
}

/** Groups runs by N and contender and summarizes each group. */
export function summarizeRuns(runs: readonly RunResult[], contenders: readonly ContenderName[]): AtN[] {
  const ns = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);
  return ns.map((n) => {
    const atN: AtN = { n, contenders: {} };
    for (const contender of contenders) {
      const mine = runs.filter((r) => r.n === n && r.contender === contender);
      if (mine.length) atN.contenders[contender] = summarizeContender(mine);
    }
    return atN;
  });
}

const known = (...values: number[]) => values.every((v) => Number.isFinite(v));
const x = (value: number) => `${value.toFixed(2)}×`;

/** Issue #16's targets (Maestro against controller-runtime) and the earlier ones (against the baseline and the peer). */
/** The numbers of parents the issue's targets are stated at. */
const TARGET_NS: readonly number[] = [1000, 10_000];

export function targets(summary: Summary): Target[] {
  const result: Target[] = [];
  const push = (name: string, target: string, measured: string, met: boolean | undefined) => result.push({ name, target, measured, met });
  for (const { n, contenders } of summary.byN) {
    const { maestro: m, 'controller-runtime': cr } = contenders;
    const at = `N = ${fmt(n, 0)}`;
    if (m && cr) {
      const peak = m.peakRssMiB.median / cr.peakRssMiB.median;
      push(`Peak RSS vs controller-runtime, ${at}`, '≤ 2.5×', `${x(peak)} (${fmt(m.peakRssMiB.median, 1)} vs ${fmt(cr.peakRssMiB.median, 1)} MiB)`, known(peak) ? peak <= 2.5 : undefined);
      const rest = m.rssStartMiB.median / cr.rssStartMiB.median;
      push(`RSS at rest (started, no objects) vs controller-runtime, ${at}`, '≤ 3×', `${x(rest)} (${fmt(m.rssStartMiB.median, 1)} vs ${fmt(cr.rssStartMiB.median, 1)} MiB)`, known(rest) ? rest <= 3 : undefined);
      const cpu = m.cpuConvergenceS.median / cr.cpuConvergenceS.median;
      push(`CPU during convergence vs controller-runtime, ${at}`, '≤ 1.3×', `${x(cpu)} (${fmt(m.cpuConvergenceS.median, 2)} vs ${fmt(cr.cpuConvergenceS.median, 2)} s)`, known(cpu) ? cpu <= 1.3 : undefined);
      if (m.cpuUntilReadyS.n && cr.cpuUntilReadyS.n) {
        // The same target over the span of the time to converge: what an operator leaves for after its last parent is Ready is not counted.
        const untilReady = m.cpuUntilReadyS.median / cr.cpuUntilReadyS.median;
        push(`CPU until the last parent is Ready vs controller-runtime, ${at}`, '≤ 1.3×', `${x(untilReady)} (${fmt(m.cpuUntilReadyS.median, 2)} vs ${fmt(cr.cpuUntilReadyS.median, 2)} s)`, known(untilReady) ? untilReady <= 1.3 : undefined);
      }
      const time = m.convergeS.median / cr.convergeS.median;
      const worst = m.convergeS.max / cr.convergeS.min;
      const best = m.convergeS.min / cr.convergeS.max;
      const spread = m.convergeS.n > 1 || cr.convergeS.n > 1 ? `range ${best.toFixed(2)}–${worst.toFixed(2)}×` : 'one round: no range';
      push(`Convergence time vs controller-runtime, ${at}`, '≤ 1.05×', `${x(time)} (${fmt(m.convergeS.median, 2)} vs ${fmt(cr.convergeS.median, 2)} s; ${spread})`, known(time) ? time <= 1.05 : undefined);
      const extra = m.requestsPerParent.median - cr.requestsPerParent.median;
      push(`Requests per parent vs controller-runtime, ${at}`, '≤ +0.05', `${extra >= 0 ? '+' : ''}${extra.toFixed(3)} (${fmt(m.requestsPerParent.median, 3)} vs ${fmt(cr.requestsPerParent.median, 3)})`, known(extra) ? extra <= 0.05 : undefined);
    }
    if (m) {
      push(`Start-up CPU (ready, no objects), ${at}`, '≤ 0.3 s', `${fmt(m.cpuStartS.median, 2)} s (max ${fmt(m.cpuStartS.max, 2)})`, known(m.cpuStartS.median) ? m.cpuStartS.median <= 0.3 : undefined);
      if (m.steadyChanged) {
        const changed = m.steadyChanged;
        const worst = m.steadyReconciles.max;
        push(`Steady state reconciles only the changed parents, ${at}`, `≈ ${fmt(changed, 0)} (≤ +10 %)`, `${fmt(m.steadyReconciles.median, 0)} (max ${fmt(worst, 0)}) for ${fmt(changed, 0)} changed`, known(worst) ? worst >= changed && worst <= changed * 1.1 : undefined);
      }
      if (m.startupWrites.n) {
        push(`Startup over ${fmt(n, 0)} converged parents sends no writes`, '0', `${fmt(m.startupWrites.max, 0)} (max over rounds)`, m.startupWrites.max === 0);
      }
    }
  }
  // Per-parent memory growth needs two N.
  const first = summary.byN[0];
  const last = summary.byN[summary.byN.length - 1];
  if (first && last && first !== last) {
    const gm = first.contenders.maestro && last.contenders.maestro && growth(first.contenders.maestro, last.contenders.maestro);
    const gc = first.contenders['controller-runtime'] && last.contenders['controller-runtime'] && growth(first.contenders['controller-runtime'], last.contenders['controller-runtime']);
    if (gm && gc) {
      const r = gm.peakRssKiB / gc.peakRssKiB;
      push(`Peak RSS growth per parent (N ${fmt(gm.from, 0)} → ${fmt(gm.to, 0)}) vs controller-runtime`, '≤ 2×', `${x(r)} (${fmt(gm.peakRssKiB, 1)} vs ${fmt(gc.peakRssKiB, 1)} KiB per parent)`, known(r) ? r <= 2 : undefined);
    }
  }
  // The earlier targets, at the smallest N.
  if (first) {
    const { maestro, baseline, peer } = first.contenders;
    const at = `N = ${fmt(first.n, 0)}`;
    if (maestro && baseline) {
      const r = maestro.convergeS.median / baseline.convergeS.median;
      push(`Convergence time vs baseline, ${at}`, '≤ 1.2×', `${x(r)} (${fmt(maestro.convergeS.median, 2)} s vs ${fmt(baseline.convergeS.median, 2)} s)`, known(r) ? r <= 1.2 : undefined);
      const extra = maestro.requestsPerParent.median - baseline.requestsPerParent.median;
      push(`Requests per parent vs baseline, ${at}`, '≤ +1', `${extra >= 0 ? '+' : ''}${extra.toFixed(3)} (${fmt(maestro.requestsPerParent.median, 3)} vs ${fmt(baseline.requestsPerParent.median, 3)})`, known(extra) ? extra <= 1 : undefined);
    }
    if (maestro && peer) {
      const speedup = peer.convergeS.median / maestro.convergeS.median;
      push(`Convergence speed vs the peer, ${at}`, '≥ 2× faster', `${speedup.toFixed(2)}× faster (${fmt(maestro.convergeS.median, 2)} s vs ${fmt(peer.convergeS.median, 2)} s)`, known(speedup) ? speedup >= 2 : undefined);
    }
  }
  if (summary.overhead) {
    const us = summary.overhead.overheadUsPerStep.median;
    push('Conductor overhead per reconciler step', '< 20 µs', `${fmt(us, 2)} µs`, known(us) ? us < 20 : undefined);
  }
  if (summary.cache) {
    const r = summary.cache.maestroToJson.median;
    push('Cache heap per object vs its JSON', '≤ 2×', `${x(r)} (${fmt(summary.cache.maestroBytes.median, 0)} B vs ${fmt(summary.cache.jsonCached, 0)} B)`, known(r) ? r <= 2 : undefined);
    const { maestro, metadata } = summary.cache.totals;
    if (metadata) {
      const share = metadata.median / maestro.median;
      push('Metadata-only cache heap vs the whole-object cache', '< 30 %', `${fmt(share * 100, 1)} % (${fmt(metadata.median / MiB, 1)} MiB vs ${fmt(maestro.median / MiB, 1)} MiB)`, known(share) ? share < 0.3 : undefined);
    }
  }
  return result;
}

/** A number with thousands separators and fixed decimals; '–' when not finite. */
export function fmt(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "median (min–max)", or the value alone for one run or no spread; '–' without runs. */
export const cell = (s: Spread | undefined, digits: number): string => {
  if (!s || s.n === 0) return '–';
  if (s.n === 1 || s.min === s.max) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
};

/** The ratio of two medians ("1.23×"); '–' when either is missing or the divisor is 0. */
export const ratio = (a: Spread | undefined, b: Spread | undefined): string => {
  if (!a || !b || !Number.isFinite(a.median) || !Number.isFinite(b.median) || b.median === 0) return '–';
  return `${(a.median / b.median).toFixed(2)}×`;
};

export interface ReportInput {
  machine: Record<string, string | number>;
  date: string;
  /** The saved runs a merged report (`--from`) is made of, in order, when more than one. */
  sources?: Array<{ date: string; cpu: string; os: string; durationS: number }>;
  options: { n: number[]; rounds: number[]; concurrency: number; cacheObjects: number };
  durationS: number;
  summary: Summary;
}

export const LABELS: Record<ContenderName, string> = {
  maestro: 'Maestro',
  'controller-runtime': 'controller-runtime',
  baseline: 'baseline',
  peer: 'peer (@dot-i/k8s-operator)',
};

/** A row of a table: its label, its figure, the digits shown, and whether a ratio of it means something (not for a share). */
type Row = [label: string, pick: (s: ContenderSummary) => Spread, digits: number, ratios?: boolean];

const HEAD_TO_HEAD: Row[] = [
  ['Time to converge (s)', (s) => s.convergeS, 2],
  ['Operator CPU during convergence (s)', (s) => s.cpuConvergenceS, 2],
  ['kube-apiserver + etcd CPU, same span (s)', (s) => s.controlPlaneCpuS, 2],
  ['Operator CPU until the last parent is Ready (s)', (s) => s.cpuUntilReadyS, 2],
  ['kube-apiserver + etcd CPU until then (s)', (s) => s.controlPlaneCpuUntilReadyS, 2],
  ['Machine CPU busy until then (%)', (s) => s.machineBusyUntilReadyPct, 0, false],
  ['Operator CPU to start, until caches synced, no objects (s)', (s) => s.cpuStartS, 2],
  ['RSS once started, no objects (MiB)', (s) => s.rssStartMiB, 1],
  ['Peak RSS, convergence + steady state (MiB)', (s) => s.peakRssMiB, 1],
  ['Live heap after convergence, after a full GC (MiB)', (s) => s.heapMiB, 1],
  ['Operator CPU, whole life (s)', (s) => s.cpuS, 2],
  ['Requests per parent until converged', (s) => s.requestsPerParent, 3],
  ['Reconciles until converged', (s) => s.reconcilesConvergence, 0],
  ['Steady state: time until the changed are Ready (s)', (s) => s.steadyS, 2],
  ['Steady state: reconciles', (s) => s.steadyReconciles, 0],
  ['Steady state: requests per changed parent', (s) => s.steadyRequestsPerChanged, 2],
  ['Startup: caches synced (s)', (s) => s.startupReadyS, 2],
  ['Startup: first pass done (s)', (s) => s.startupPassS, 2],
  ['Startup: writes sent', (s) => s.startupWrites, 0],
  ['Startup: reconciles', (s) => s.startupReconciles, 0],
  ['Startup: CPU until the pass is done (s)', (s) => s.startupCpuS, 2],
  ['Startup: peak RSS (MiB)', (s) => s.startupPeakRssMiB, 1],
];

const FULL: Row[] = [
  ['Time to converge (s)', (s) => s.convergeS, 2],
  ['Requests per parent (all, incl. list/watch)', (s) => s.requestsPerParent, 3],
  ['… of which list + watch (total)', (s) => s.listWatchRequests, 0],
  ['Non-2xx responses (total)', (s) => s.failedResponses, 0],
  ['TCP connections opened (total)', (s) => s.connections, 0],
  ['Reconciles until converged', (s) => s.reconcilesConvergence, 0],
  ['CPU to start, no objects (s)', (s) => s.cpuStartS, 2],
  ['RSS once started, no objects (MiB)', (s) => s.rssStartMiB, 1],
  ['Peak RSS (MiB)', (s) => s.peakRssMiB, 1],
  ['Live heap after convergence (MiB)', (s) => s.heapMiB, 1],
  ['CPU, convergence only (s)', (s) => s.cpuConvergenceS, 2],
  ['kube-apiserver + etcd CPU, same span as the last (s)', (s) => s.controlPlaneCpuS, 2],
  ['CPU until the last parent is Ready (s)', (s) => s.cpuUntilReadyS, 2],
  ['kube-apiserver + etcd CPU until then (s)', (s) => s.controlPlaneCpuUntilReadyS, 2],
  ['Machine CPU busy until then (%)', (s) => s.machineBusyUntilReadyPct, 0, false],
  ['CPU, whole life (s)', (s) => s.cpuS, 2],
  ['Steady state: time until Ready (s)', (s) => s.steadyS, 2],
  ['Steady state: reconciles', (s) => s.steadyReconciles, 0],
  ['Steady state: requests per changed parent', (s) => s.steadyRequestsPerChanged, 2],
  ['Startup: first pass done (s)', (s) => s.startupPassS, 2],
  ['Startup: writes sent', (s) => s.startupWrites, 0],
  ['Startup: CPU (s)', (s) => s.startupCpuS, 2],
  ['Startup: peak RSS (MiB)', (s) => s.startupPeakRssMiB, 1],
];

const has = (s: Spread | undefined) => Boolean(s && s.n > 0);

export function markdown(input: ReportInput): string {
  const { summary, options } = input;
  const lines: string[] = [];
  const m = input.machine;
  lines.push('## Maestro benchmarks', '');
  if (input.sources && input.sources.length > 1) {
    // Merged runs may come from other machines: each says which.
    const each = input.sources.map((r) => `${r.date} (${r.cpu}, ${r.os}, ${fmt(r.durationS / 60, 1)} min)`).join('; ');
    lines.push(`Merged from ${input.sources.length} runs: ${each}. The last: ${m['cores']} cores (${m['cpu']}), ${m['memory']} · Node ${m['node']} · kube-apiserver ${m['kubernetes'] ?? '–'} + etcd on the same machine`, '');
  } else {
    lines.push(`${input.date} · ${m['cores']} cores (${m['cpu']}), ${m['memory']} · Node ${m['node']} · ${m['os']} · kube-apiserver ${m['kubernetes'] ?? '–'} + etcd on the same machine · whole run ${fmt(input.durationS / 60, 1)} min`, '');
  }
  lines.push(`Rounds: ${summary.byN.map((b, i) => `${options.rounds[i] ?? options.rounds[0]} at N = ${fmt(b.n, 0)}`).join(', ') || '–'}; concurrency ${options.concurrency}. `
    + 'Medians over the rounds, min–max in parentheses; ratios compare medians. CPU and RSS are read from /proc/<pid> of each contender (utime+stime, VmRSS, VmHWM). '
    + 'CPU during convergence, the operator\'s and the control plane\'s, spans from the contender\'s ready until converged and a quiet second: longer than the time to converge, '
    + 'the more so for a contender that keeps working after the last parent is Ready. '
    + 'CPU until the last parent is Ready spans from the first create to the last parent seen Ready, the span of the time to converge; '
    + 'the machine\'s busy share is over the same span, every process on it included (where it is near 100 %, the time to converge follows the CPU all processes spend).', '');

  let section = 1;
  const present = (atN: AtN) => (Object.keys(LABELS) as ContenderName[]).filter((c) => atN.contenders[c]);

  // 1. Maestro vs controller-runtime, at every N.
  const pairs = summary.byN.filter((b) => b.contenders.maestro && b.contenders['controller-runtime']);
  if (pairs.length) {
    lines.push(`### ${section++}. Maestro vs controller-runtime`, '');
    lines.push('| | ' + pairs.map((b) => `controller-runtime, N = ${fmt(b.n, 0)} | Maestro | Maestro / CR`).join(' | ') + ' |');
    lines.push('|---|' + pairs.map(() => '---:|---:|---:|').join(''));
    for (const [label, pick, digits, ratios = true] of HEAD_TO_HEAD) {
      if (!pairs.some((b) => has(pick(b.contenders.maestro!)) || has(pick(b.contenders['controller-runtime']!)))) continue;
      lines.push(`| ${label} | ` + pairs.map((b) => {
        const cr = pick(b.contenders['controller-runtime']!);
        const ma = pick(b.contenders.maestro!);
        return `${cell(cr, digits)} | ${cell(ma, digits)} | ${ratios ? ratio(ma, cr) : ''}`;
      }).join(' | ') + ' |');
    }
    lines.push('');
  }

  // 2. Per-parent figures at every N and the growth between the smallest and the largest N.
  if (summary.byN.length) {
    const contenders = [...new Set(summary.byN.flatMap(present))];
    const first = summary.byN[0]!;
    const last = summary.byN[summary.byN.length - 1]!;
    const grows = first !== last;
    lines.push(`### ${section++}. Per parent`, '');
    lines.push('Time and CPU of the convergence divided by N; memory per parent is (peak RSS − RSS at rest) / N.'
      + (grows ? ' Growth is (value at the larger N − value at the smaller) / (difference of N): the cost of one more parent, without fixed costs.' : ''), '');
    lines.push(`| | ${summary.byN.map((b) => `N = ${fmt(b.n, 0)}: ms per parent | CPU ms per parent | KiB RSS per parent`).join(' | ')}${grows ? ` | growth ${fmt(first.n, 0)} → ${fmt(last.n, 0)}: ms | CPU ms | KiB peak RSS | KiB live heap` : ''} |`);
    lines.push(`|---|${summary.byN.map(() => '---:|---:|---:|').join('')}${grows ? '---:|---:|---:|---:|' : ''}`);
    for (const c of contenders) {
      const cells = summary.byN.map((b) => {
        const s = b.contenders[c];
        if (!s) return '– | – | –';
        return `${fmt((s.convergeS.median * 1000) / b.n, 2)} | ${fmt((s.cpuConvergenceS.median * 1000) / b.n, 2)} | ${fmt(((s.peakRssMiB.median - s.rssStartMiB.median) * 1024) / b.n, 1)}`;
      });
      let tail = '';
      if (grows) {
        const g = first.contenders[c] && last.contenders[c] ? growth(first.contenders[c], last.contenders[c]) : undefined;
        tail = g ? ` | ${fmt(g.timeMs, 2)} | ${fmt(g.cpuMs, 2)} | ${fmt(g.peakRssKiB, 1)} | ${fmt(g.heapKiB, 1)}` : ' | – | – | – | –';
      }
      lines.push(`| ${LABELS[c]} | ${cells.join(' | ')}${tail} |`);
    }
    if (grows) {
      const gm = first.contenders.maestro && last.contenders.maestro ? growth(first.contenders.maestro, last.contenders.maestro) : undefined;
      const gc = first.contenders['controller-runtime'] && last.contenders['controller-runtime'] ? growth(first.contenders['controller-runtime'], last.contenders['controller-runtime']) : undefined;
      if (gm && gc) {
        const r = (a: number, b: number) => (Number.isFinite(a / b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–');
        lines.push(`| **Maestro / controller-runtime** | ${summary.byN.map((b) => {
          const ma = b.contenders.maestro;
          const cr = b.contenders['controller-runtime'];
          if (!ma || !cr) return '– | – | –';
          return `${ratio(ma.convergeS, cr.convergeS)} | ${ratio(ma.cpuConvergenceS, cr.cpuConvergenceS)} | ${r(ma.peakRssMiB.median - ma.rssStartMiB.median, cr.peakRssMiB.median - cr.rssStartMiB.median)}`;
        }).join(' | ')} | ${r(gm.timeMs, gc.timeMs)} | ${r(gm.cpuMs, gc.cpuMs)} | ${r(gm.peakRssKiB, gc.peakRssKiB)} | ${r(gm.heapKiB, gc.heapKiB)} |`);
      }
    }
    lines.push('');
  }

  // 3. Every contender at every N.
  for (const atN of summary.byN) {
    const cs = present(atN);
    if (!cs.length) continue;
    const failed = cs.reduce((sum, c) => sum + (atN.contenders[c]!.failed), 0);
    const idx = summary.byN.indexOf(atN);
    const rounds = options.rounds[idx] ?? options.rounds[0] ?? 0;
    const which = cs.length === Object.keys(LABELS).length ? 'All contenders' : cs.map((c) => LABELS[c]).join(', ');
    lines.push(`### ${section++}. ${which}, N = ${fmt(atN.n, 0)} (${rounds} round${rounds === 1 ? '' : 's'})`, '');
    lines.push(`Convergence: N Sites, each 2 children (ConfigMap + Service, server-side apply) + Ready=True; steady state: every tenth Site changes spec; startup: a new process over the N converged Sites. `
      + `Concurrency ${options.concurrency} (${cs.filter((c) => c !== 'peer').map((c) => `${LABELS[c].split(' ')[0]} workers`).join(', ')})${cs.includes('peer') ? '; the peer handles one event at a time' : ''}.${failed ? ` **${failed} run(s) failed** (see stderr / --json).` : ''}`, '');
    const vsBaseline = cs.includes('baseline');
    lines.push(`| | ${cs.map((c) => LABELS[c]).join(' | ')}${vsBaseline ? ` | ${cs.filter((c) => c !== 'baseline').map((c) => `${LABELS[c].split(' ')[0]} / baseline`).join(' | ')}` : ''} |`);
    lines.push(`|---|${cs.map(() => '---:|').join('')}${vsBaseline ? cs.filter((c) => c !== 'baseline').map(() => '---:|').join('') : ''}`);
    for (const [label, pick, digits, ratios = true] of FULL) {
      if (!cs.some((c) => has(pick(atN.contenders[c]!)))) continue;
      const base = vsBaseline ? pick(atN.contenders.baseline!) : undefined;
      lines.push(`| ${label} | ${cs.map((c) => cell(pick(atN.contenders[c]!), digits)).join(' | ')}${vsBaseline ? ` | ${cs.filter((c) => c !== 'baseline').map((c) => (ratios ? ratio(pick(atN.contenders[c]!), base) : '')).join(' | ')}` : ''} |`);
    }
    lines.push('');
    const kinds = [...new Set(cs.flatMap((c) => Object.keys(atN.contenders[c]!.requestsByKind)))].sort();
    if (kinds.length) {
      lines.push(`Requests until converged, by kind (medians): ${cs.map((c) => {
        const byKind = atN.contenders[c]!.requestsByKind;
        return `${c} ${kinds.filter((k) => byKind[k]).map((k) => `${k} ${fmt(byKind[k]!, 0)}`).join(', ')}`;
      }).join('; ')}.`, '');
    }
  }

  if (summary.overhead) {
    const o = summary.overhead;
    lines.push(`### ${section++}. Conductor overhead: ${o.steps} no-op reconcilers`, '');
    lines.push('| | µs per reconcile | bytes allocated per reconcile | µs per step | bytes per step |');
    lines.push('|---|---:|---:|---:|---:|');
    const per = (s: Spread) => ({ ...s, median: s.median / o.steps, min: s.min / o.steps, max: s.max / o.steps });
    lines.push(`| \`ParentConductor.conduct()\` (DI child container, State, status handler) | ${cell(o.conductUs, 2)} | ${cell(o.conductBytes, 0)} | ${cell(per(o.conductUs), 2)} | ${cell(per(o.conductBytes), 0)} |`);
    lines.push(`| the 5 functions called directly | ${cell(o.directUs, 2)} | ${cell(o.directBytes, 0)} | ${cell(per(o.directUs), 2)} | ${cell(per(o.directBytes), 0)} |`);
    lines.push(`| **overhead** ((conduct − direct) / ${o.steps} per step) | | | **${cell(o.overheadUsPerStep, 2)}** | **${cell(o.overheadBytesPerStep, 0)}** |`);
    lines.push('');
  }

  if (summary.cache) {
    const c = summary.cache;
    lines.push(`### ${section}. Cache memory: ${fmt(c.objects, 0)} ConfigMaps of ~1 KiB`, '');
    lines.push(`JSON per object: ${fmt(c.jsonCached, 0)} B as cached (without managedFields), ${fmt(c.jsonServed, 0)} B as served. `
      + 'Heap after full GCs minus before, per object held, each in a fresh process after one unmeasured pass.', '');
    if (c.maestroHeld < c.objects) {
      lines.push(`**The Maestro informer held only ${fmt(c.maestroHeld, 0)} of the ${fmt(c.objects, 0)} ConfigMaps after its sync**: its paged list ended after the first page `
        + '(the `continue` token did not reach it); its figure is per object held, so fixed costs weigh more.', '');
    }
    lines.push('| | heap bytes per object | × JSON size (as cached) | vs raw |');
    lines.push('|---|---:|---:|---:|');
    lines.push(`| Maestro \`Informer\` (client-node models, no managedFields) | ${cell(c.maestroBytes, 0)} | ${cell(c.maestroToJson, 2)} | ${ratio(c.maestroBytes, c.rawBytes)} |`);
    lines.push(`| raw: the parsed JSON in a Map (reference) | ${cell(c.rawBytes, 0)} | ${cell(c.rawToJson, 2)} | 1.00× |`);
    lines.push('');
    if (c.totals.metadata || c.totals.selected) {
      const mib = (sp: Spread) => ({ ...sp, median: sp.median / MiB, min: sp.min / MiB, max: sp.max / MiB });
      const share = (sp: Spread) => (Number.isFinite(sp.median / c.totals.maestro.median) ? `${fmt((sp.median / c.totals.maestro.median) * 100, 1)} %` : '–');
      lines.push('A cache sized to what the operator needs: the same namespace, whole heap of each informer.', '');
      lines.push('| informer of the namespace\'s ConfigMaps | objects held | heap (MiB) | vs whole objects |');
      lines.push('|---|---:|---:|---:|');
      lines.push(`| whole objects (the default) | ${fmt(c.maestroHeld, 0)} | ${cell(mib(c.totals.maestro), 1)} | 100 % |`);
      if (c.totals.metadata) lines.push(`| metadata only (\`metadataOnly: true\`: PartialObjectMetadata) | ${fmt(c.held.metadata ?? NaN, 0)} | ${cell(mib(c.totals.metadata), 1)} | ${share(c.totals.metadata)} |`);
      if (c.totals.selected) lines.push(`| label-selected, 1 in 10 (\`labelSelector\`) | ${fmt(c.held.selected ?? NaN, 0)} of ${fmt(c.selectedExpected ?? NaN, 0)} matching | ${cell(mib(c.totals.selected), 1)} | ${share(c.totals.selected)} |`);
      lines.push('');
    }
  }

  const list = targets(summary);
  if (list.length) {
    lines.push('### Targets', '');
    lines.push('| target | goal | measured | |');
    lines.push('|---|---|---|---|');
    for (const t of list) lines.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met === undefined ? '–' : t.met ? 'met' : '**not met**'} |`);
    lines.push('');
    const elsewhere = summary.byN.map((b) => b.n).filter((n) => !TARGET_NS.includes(n));
    if (elsewhere.length > 0) {
      lines.push(`The targets are set at N = 1,000 and 10,000; the rows at N = ${elsewhere.map((n) => fmt(n, 0)).join(', ')} are a first look and do not count.`, '');
    }
  }
  return lines.join('\n');
}
