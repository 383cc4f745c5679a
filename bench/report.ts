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

const cpuSeconds = (s: ContenderStats) => (s.cpu.user + s.cpu.system) / 1e6;
const listWatch = (s: ContenderStats) => (s.requests.byKind.list ?? 0) + (s.requests.byKind.watch ?? 0);
const failures = (s: ContenderStats) => Object.entries(s.requests.byStatus).filter(([k]) => k !== '2xx').reduce((sum, [, v]) => sum + v, 0);

/** Per-contender summary of the convergence and steady-state runs. */
export interface ContenderSummary {
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
  peakRssMiB: Spread;
  cpuS: Spread;
  cpuConvergenceS: Spread;
  steadyS: Spread;
  steadyChanged: number;
  steadyReconciles: Spread;
  steadyRequestsPerChanged: Spread;
  /** Requests of the convergence phase by kind (medians). */
  requestsByKind: Record<string, number>;
}

export function summarizeContender(runs: readonly RunResult[]): ContenderSummary {
  const ok = runs.filter((r) => !r.error);
  const of = (f: (r: RunResult) => number) => spread(ok.map(f));
  const kinds = new Set(ok.flatMap((r) => Object.keys(r.converged.requests.byKind)));
  const requestsByKind: Record<string, number> = {};
  for (const kind of kinds) requestsByKind[kind] = spread(ok.map((r) => r.converged.requests.byKind[kind as keyof typeof r.converged.requests.byKind] ?? 0)).median;
  return {
    runs: runs.length,
    failed: runs.length - ok.length,
    convergeS: of((r) => r.convergeMs / 1000),
    requestsPerParent: of((r) => r.converged.requests.total / r.n),
    listWatchRequests: of((r) => listWatch(r.converged)),
    failedResponses: of((r) => failures(r.converged)),
    connections: of((r) => r.converged.requests.connections.net),
    reconcilesConvergence: of((r) => r.converged.reconciles),
    peakRssMiB: of((r) => r.final.maxRssBytes / 2 ** 20),
    cpuS: of((r) => cpuSeconds(r.final)),
    cpuConvergenceS: of((r) => cpuSeconds(r.converged) - cpuSeconds(r.atStart)),
    steadyS: of((r) => r.steady.readyMs / 1000),
    steadyChanged: ok[0]?.steady.changed ?? 0,
    steadyReconciles: of((r) => r.steady.after.reconciles - r.converged.reconciles),
    steadyRequestsPerChanged: of((r) => (r.steady.after.requests.total - r.converged.requests.total) / r.steady.changed),
    requestsByKind,
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
  };
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | undefined;
}

export interface Summary {
  contenders: Partial<Record<ContenderName, ContenderSummary>>;
  overhead?: OverheadSummary;
  cache?: CacheSummary;
}

export function targets(summary: Summary): Target[] {
  const { maestro, baseline, peer } = summary.contenders;
  const result: Target[] = [];
  const known = (...values: number[]) => values.every((v) => Number.isFinite(v));
  if (maestro && baseline) {
    const ratio = maestro.convergeS.median / baseline.convergeS.median;
    result.push({ name: 'Convergence time vs baseline', target: '≤ 1.2×', measured: `${ratio.toFixed(2)}× (${fmt(maestro.convergeS.median, 2)} s vs ${fmt(baseline.convergeS.median, 2)} s)`, met: known(ratio) ? ratio <= 1.2 : undefined });
    const extra = maestro.requestsPerParent.median - baseline.requestsPerParent.median;
    result.push({ name: 'Requests per parent vs baseline', target: '≤ +1', measured: `${extra >= 0 ? '+' : ''}${extra.toFixed(3)} (${fmt(maestro.requestsPerParent.median, 3)} vs ${fmt(baseline.requestsPerParent.median, 3)})`, met: known(extra) ? extra <= 1 : undefined });
  }
  if (maestro && peer) {
    const speedup = peer.convergeS.median / maestro.convergeS.median;
    result.push({ name: 'Convergence speed vs the peer', target: '≥ 2× faster', measured: `${speedup.toFixed(2)}× faster (${fmt(maestro.convergeS.median, 2)} s vs ${fmt(peer.convergeS.median, 2)} s)`, met: known(speedup) ? speedup >= 2 : undefined });
  }
  if (maestro) {
    const changed = maestro.steadyChanged;
    const worst = maestro.steadyReconciles.max;
    result.push({ name: 'Steady state reconciles only the changed parents', target: `≈ ${changed} (≤ +10 %)`, measured: `${fmt(maestro.steadyReconciles.median, 0)} (max ${fmt(worst, 0)}) for ${changed} changed`, met: known(worst) ? worst >= changed && worst <= changed * 1.1 : undefined });
  }
  if (summary.overhead) {
    const us = summary.overhead.overheadUsPerStep.median;
    result.push({ name: 'Conductor overhead per reconciler step', target: '< 20 µs', measured: `${fmt(us, 2)} µs`, met: known(us) ? us < 20 : undefined });
  }
  if (summary.cache) {
    const ratio = summary.cache.maestroToJson.median;
    result.push({ name: 'Cache heap per object vs its JSON', target: '≤ 2×', measured: `${ratio.toFixed(2)}× (${fmt(summary.cache.maestroBytes.median, 0)} B vs ${fmt(summary.cache.jsonCached, 0)} B)`, met: known(ratio) ? ratio <= 2 : undefined });
  }
  return result;
}

function fmt(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const cell = (s: Spread | undefined, digits: number) => {
  if (!s || s.n === 0) return '–';
  if (s.n === 1 || s.min === s.max) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
};
const ratio = (a: Spread | undefined, b: Spread | undefined) => {
  if (!a || !b || !Number.isFinite(a.median) || !Number.isFinite(b.median) || b.median === 0) return '–';
  return `${(a.median / b.median).toFixed(2)}×`;
};

export interface ReportInput {
  machine: Record<string, string | number>;
  date: string;
  options: { n: number; rounds: number; concurrency: number; cacheObjects: number };
  durationS: number;
  summary: Summary;
  runs: RunResult[];
}

export function markdown(input: ReportInput): string {
  const { summary, options } = input;
  const lines: string[] = [];
  const m = input.machine;
  lines.push('## Maestro benchmarks', '');
  lines.push(`${input.date} · ${m['cores']} cores (${m['cpu']}), ${m['memory']} · Node ${m['node']} · ${m['os']} · kube-apiserver ${m['kubernetes']} + etcd on the same machine · whole run ${fmt(input.durationS / 60, 1)} min`, '');
  lines.push('Medians over the rounds, min–max in parentheses. Ratios compare medians.', '');

  const { maestro, baseline, peer } = summary.contenders;
  if (maestro || baseline || peer) {
    const failed = [maestro, baseline, peer].reduce((sum, s) => sum + (s?.failed ?? 0), 0);
    lines.push(`### 1. Convergence: ${fmt(options.n, 0)} Sites, each 2 children (ConfigMap + Service, server-side apply) + Ready=True`, '');
    lines.push(`${options.rounds} rounds, contenders in alternation, each in its own process and a fresh namespace. Concurrency ${options.concurrency} `
      + `(Maestro \`maxConcurrentReconciles\`, baseline workers); the peer handles one event at a time (as it comes).${failed ? ` **${failed} run(s) failed** (see stderr / --json).` : ''}`, '');
    lines.push('| | Maestro | baseline | peer (@dot-i/k8s-operator) | Maestro / baseline | peer / baseline |');
    lines.push('|---|---:|---:|---:|---:|---:|');
    const row = (label: string, pick: (s: ContenderSummary) => Spread, digits: number) =>
      lines.push(`| ${label} | ${cell(maestro && pick(maestro), digits)} | ${cell(baseline && pick(baseline), digits)} | ${cell(peer && pick(peer), digits)} | ${ratio(maestro && pick(maestro), baseline && pick(baseline))} | ${ratio(peer && pick(peer), baseline && pick(baseline))} |`);
    row('Time to converge (s)', (s) => s.convergeS, 2);
    row('Requests per parent (all, incl. list/watch)', (s) => s.requestsPerParent, 3);
    row('… of which list + watch (total)', (s) => s.listWatchRequests, 0);
    row('Non-2xx responses (total)', (s) => s.failedResponses, 0);
    row('TCP connections opened (total)', (s) => s.connections, 0);
    row('Reconciles until converged', (s) => s.reconcilesConvergence, 0);
    row('Peak RSS of the operator (MiB)', (s) => s.peakRssMiB, 1);
    row('CPU of the operator, whole life (s)', (s) => s.cpuS, 2);
    row('CPU of the operator, convergence only (s)', (s) => s.cpuConvergenceS, 2);
    lines.push('');
    const kinds = [...new Set([maestro, baseline, peer].flatMap((s) => Object.keys(s?.requestsByKind ?? {})))].sort();
    if (kinds.length) {
      lines.push(`Requests until converged, by kind (medians): ${(['maestro', 'baseline', 'peer'] as const).filter((c) => summary.contenders[c]).map((c) => {
        const byKind = summary.contenders[c]!.requestsByKind;
        return `${c} ${kinds.filter((k) => byKind[k]).map((k) => `${k} ${fmt(byKind[k]!, 0)}`).join(', ')}`;
      }).join('; ')}.`, '');
    }
    const changed = maestro?.steadyChanged ?? baseline?.steadyChanged ?? peer?.steadyChanged ?? 0;
    lines.push(`### 2. Steady state: ${changed} of ${fmt(options.n, 0)} Sites (10 %) change spec`, '');
    lines.push('| | Maestro | baseline | peer | Maestro / baseline | peer / baseline |');
    lines.push('|---|---:|---:|---:|---:|---:|');
    row('Time until Ready for the new generation (s)', (s) => s.steadyS, 2);
    row(`Reconciles executed (${changed} changed)`, (s) => s.steadyReconciles, 0);
    row('Requests per changed parent', (s) => s.steadyRequestsPerChanged, 2);
    lines.push('');
  }

  if (summary.overhead) {
    const o = summary.overhead;
    lines.push(`### 3. Conductor overhead: ${o.steps} no-op reconcilers`, '');
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
    lines.push(`### 4. Cache memory: ${fmt(c.objects, 0)} ConfigMaps of ~1 KiB`, '');
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
  }

  const list = targets(summary);
  if (list.length) {
    lines.push('### Targets', '');
    lines.push('| target | goal | measured | |');
    lines.push('|---|---|---|---|');
    for (const t of list) lines.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met === undefined ? '–' : t.met ? 'met' : '**missed**'} |`);
    lines.push('');
  }
  return lines.join('\n');
}
