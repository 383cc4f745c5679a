import { expect } from 'chai';
import type { ContenderStats } from '../../bench/contender.js';
import type { ContenderName, RunResult } from '../../bench/convergence.js';
import type { RequestCounters } from '../../bench/requests.cjs';
import type { CacheMemoryResult } from '../../bench/cache-memory.js';
import type { CacheMode } from '../../bench/cache-modes.js';
import { cell, fmt, growth, markdown, mergeRuns, ratio, spread, summarizeCache, summarizeContender, summarizeRuns, targets, type Summary } from '../../bench/report.js';

const MiB = 2 ** 20;

function stats(o: { cpuS: number; rssMiB?: number; peakMiB?: number; heapMiB?: number; reconciles?: number; byKind?: RequestCounters['byKind']; lastActivityMs?: number }): ContenderStats {
  const byKind = o.byKind ?? {};
  const total = Object.values(byKind).reduce((a, b) => a + (b ?? 0), 0);
  return {
    requests: { total, byKind, byStatus: { '2xx': total }, connections: { net: 1, undici: 1 } },
    reconciles: o.reconciles ?? 0,
    heapUsedBytes: (o.heapMiB ?? 10) * MiB,
    uptimeMs: 1000,
    lastActivityMs: o.lastActivityMs ?? 0,
    proc: { cpuS: o.cpuS, rssBytes: (o.rssMiB ?? 30) * MiB, peakRssBytes: (o.peakMiB ?? o.rssMiB ?? 30) * MiB },
  };
}

/** A run of `contender` at `n` whose figures scale with `k` (fixed costs + per-parent costs). */
function run(contender: ContenderName, n: number, round: number, f: { rest: number; perParentKiB: number; cpuPerParentMs: number; msPerParent: number; startupWrites?: number; error?: string }): RunResult {
  const peak = f.rest + (f.perParentKiB * n) / 1024;
  const atStart = stats({ cpuS: 0.5, rssMiB: f.rest });
  const converged = stats({ cpuS: 0.5 + (f.cpuPerParentMs * n) / 1000, rssMiB: peak, peakMiB: peak, reconciles: n, byKind: { list: 3, watch: 3, patch: 2 * n, patchStatus: n } });
  const convergedHeap = { ...converged, heapUsedBytes: (5 + (f.perParentKiB * n) / 2048) * MiB };
  const after = { ...converged, reconciles: n + n / 10, requests: { ...converged.requests, total: converged.requests.total + (2 * n) / 10 } };
  const quiet = stats({ cpuS: 1, reconciles: n, byKind: { list: 3, watch: 3, patch: f.startupWrites ?? 0 }, lastActivityMs: 1500 });
  return {
    contender, round, namespace: `ns-${contender}-${round}`, n,
    ...(f.error ? { error: f.error } : {}),
    convergeMs: f.msPerParent * n, createMs: 1, atStart, converged, convergedHeap,
    steady: { changed: n / 10, readyMs: 500, after },
    final: stats({ cpuS: 2, rssMiB: peak, peakMiB: peak }),
    startup: { readyMs: 800, passMs: 1500, quiet, heap: quiet, final: stats({ cpuS: 1.1, peakMiB: peak }) },
  };
}

describe('bench report', () => {
  it('summarizes median and range, ignoring what is not a number', () => {
    expect(spread([3, 1, 2])).to.deep.equal({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, NaN, 2, 3])).to.deep.equal({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spread([]).n).to.equal(0);
  });

  it('formats cells and ratios of medians', () => {
    expect(cell(spread([10.2, 9.1, 11.456]), 2)).to.equal('10.20 (9.10–11.46)');
    expect(cell(spread([1234.5]), 1)).to.equal('1,234.5');
    expect(cell(undefined, 1)).to.equal('–');
    expect(ratio(spread([6]), spread([2]))).to.equal('3.00×');
    expect(ratio(spread([6]), spread([0]))).to.equal('–');
    expect(fmt(NaN, 2)).to.equal('–');
  });

  it('takes CPU and RSS from the /proc readings: convergence CPU is converged minus ready', () => {
    const s = summarizeContender([run('maestro', 1000, 1, { rest: 150, perParentKiB: 160, cpuPerParentMs: 5, msPerParent: 10 })]);
    expect(s.cpuStartS.median).to.equal(0.5);
    expect(s.cpuConvergenceS.median).to.be.closeTo(5, 1e-9);
    expect(s.rssStartMiB.median).to.equal(150);
    expect(s.peakRssMiB.median).to.be.closeTo(150 + 160000 / 1024, 1e-9);
    expect(s.convergeS.median).to.equal(10);
    expect(s.requestsPerParent.median).to.equal(3.006);
    expect(s.steadyReconciles.median).to.equal(100);
    expect(s.startupWrites.median).to.equal(0);
    expect(s.startupPassS.median).to.equal(1.5);
  });

  it('sums kube-apiserver and etcd CPU over the convergence span, from the runs that measured it, and shows the row only then', () => {
    const measured = (round: number, apiServer: number, etcd: number) => ({ ...run('maestro', 1000, round, { rest: 150, perParentKiB: 160, cpuPerParentMs: 5, msPerParent: 10 }), controlPlaneCpuS: { apiServer, etcd } });
    const older = run('maestro', 1000, 3, { rest: 150, perParentKiB: 160, cpuPerParentMs: 5, msPerParent: 10 });
    const s = summarizeContender([measured(1, 9, 2.5), measured(2, 11, 3), older]);
    expect(s.controlPlaneCpuS).to.deep.include({ n: 2, min: 11.5, max: 14 });
    expect(s.controlPlaneCpuS.median).to.be.closeTo(12.75, 1e-9);
    const report = (runs: RunResult[]) => markdown({
      machine: { cores: 2, cpu: 'test', memory: '1 GiB', node: 'v24', os: 'Linux', kubernetes: 'v1.36.3' },
      date: '2026-12-03', options: { n: [1000], rounds: [2], concurrency: 8, cacheObjects: 0 }, durationS: 60,
      summary: { byN: summarizeRuns(runs, ['maestro', 'controller-runtime']) },
    });
    const cr = (round: number, apiServer: number) => ({ ...run('controller-runtime', 1000, round, { rest: 30, perParentKiB: 20, cpuPerParentMs: 3, msPerParent: 9 }), controlPlaneCpuS: { apiServer, etcd: 3 } });
    expect(report([measured(1, 9, 2.5), cr(1, 14)])).to.match(/\| kube-apiserver \+ etcd CPU, same span \(s\) \| 17\.00 \| 11\.50 \| 0\.68× \|/);
    expect(report([older, run('controller-runtime', 1000, 1, { rest: 30, perParentKiB: 20, cpuPerParentMs: 3, msPerParent: 9 })]), 'older results: no row').not.to.contain('kube-apiserver + etcd');
  });

  it('reports CPU until the last parent is Ready, with the control plane\'s and the machine\'s busy share, only from runs that measured it', () => {
    const base = (c: ContenderName, round: number) => run(c, 1000, round, { rest: 150, perParentKiB: 160, cpuPerParentMs: 5, msPerParent: 10 });
    const measured = (c: ContenderName, round: number, operatorCpuS: number, apiServerCpuS: number, machineBusy: number) => ({ ...base(c, round), untilReady: { operatorCpuS, apiServerCpuS, etcdCpuS: 2, machineBusy } });
    const s = summarizeContender([measured('maestro', 1, 2.8, 9, 0.97), measured('maestro', 2, 3.0, 10, 0.99), base('maestro', 3)]);
    expect(s.cpuUntilReadyS).to.deep.include({ n: 2, min: 2.8, max: 3 });
    expect(s.controlPlaneCpuUntilReadyS).to.deep.include({ n: 2, min: 11, max: 12 });
    expect(s.machineBusyUntilReadyPct.median).to.be.closeTo(98, 1e-9);
    // A control plane that could not be read leaves its figure out, not zero.
    const noPlane = { ...base('maestro', 4), untilReady: { operatorCpuS: 2, machineBusy: 0.5 } };
    expect(summarizeContender([noPlane]).controlPlaneCpuUntilReadyS.n).to.equal(0);
    const report = (runs: RunResult[]) => markdown({
      machine: { cores: 2, cpu: 'test', memory: '1 GiB', node: 'v24', os: 'Linux', kubernetes: 'v1.36.3' },
      date: '2026-12-04', options: { n: [1000], rounds: [1], concurrency: 8, cacheObjects: 0 }, durationS: 60,
      summary: { byN: summarizeRuns(runs, ['maestro', 'controller-runtime']) },
    });
    const text = report([measured('maestro', 1, 2.8, 9, 0.97), measured('controller-runtime', 1, 2.1, 9.5, 0.99)]);
    expect(text).to.match(/\| Operator CPU until the last parent is Ready \(s\) \| 2\.10 \| 2\.80 \| 1\.33× \|/);
    expect(text).to.match(/\| kube-apiserver \+ etcd CPU until then \(s\) \| 11\.50 \| 11\.00 \| 0\.96× \|/);
    // A share of the machine's time has no meaningful ratio.
    expect(text).to.match(/\| Machine CPU busy until then \(%\) \| 99 \| 97 \| {2}\|/);
    expect(report([base('maestro', 1), base('controller-runtime', 1)]), 'older results: no row').not.to.match(/\| Operator CPU until the last parent is Ready/);
    // The CPU target, also over the span of the time to converge: 2.8 against 2.1 s is over 1.3×.
    const byN = summarizeRuns([measured('maestro', 1, 2.8, 9, 0.97), measured('controller-runtime', 1, 2.1, 9.5, 0.99)], ['maestro', 'controller-runtime']);
    expect(targets({ byN }).find((t) => t.name.startsWith('CPU until the last parent is Ready'))).to.deep.include({ target: '≤ 1.3×', measured: '1.33× (2.80 vs 2.10 s)', met: false });
    const older = summarizeRuns([base('maestro', 1), base('controller-runtime', 1)], ['maestro', 'controller-runtime']);
    expect(targets({ byN: older }).some((t) => t.name.startsWith('CPU until the last parent is Ready')), 'no target without the figures').to.equal(false);
  });

  it('leaves failed runs out of the figures but counts them', () => {
    const s = summarizeContender([
      run('maestro', 1000, 1, { rest: 150, perParentKiB: 160, cpuPerParentMs: 5, msPerParent: 10 }),
      run('maestro', 1000, 2, { rest: 150, perParentKiB: 160, cpuPerParentMs: 5, msPerParent: 99, error: 'timeout' }),
    ]);
    expect(s.runs).to.equal(2);
    expect(s.failed).to.equal(1);
    expect(s.convergeS.max).to.equal(10);
  });

  it('leaves a startup whose pass was not seen to its end out of the startup figures', () => {
    const cut = run('maestro', 1000, 2, { rest: 150, perParentKiB: 160, cpuPerParentMs: 5, msPerParent: 10, startupWrites: 978 });
    cut.startup!.passMs = 24_000;
    cut.startup!.quiet = { ...cut.startup!.quiet, reconciles: 492 }; // saved before `complete` existed
    const flagged = run('maestro', 1000, 3, { rest: 150, perParentKiB: 160, cpuPerParentMs: 5, msPerParent: 10, startupWrites: 5 });
    flagged.startup!.complete = false;
    const s = summarizeContender([run('maestro', 1000, 1, { rest: 150, perParentKiB: 160, cpuPerParentMs: 5, msPerParent: 10 }), cut, flagged]);
    expect(s.startupWrites.n).to.equal(1);
    expect(s.startupPassS.max).to.equal(1.5);
    expect(s.convergeS.n).to.equal(3);
  });

  it('computes the cost of one more parent between two N, without the fixed costs', () => {
    const small = summarizeContender([run('maestro', 1000, 1, { rest: 150, perParentKiB: 100, cpuPerParentMs: 5, msPerParent: 10 })]);
    const large = summarizeContender([run('maestro', 10000, 1, { rest: 150, perParentKiB: 100, cpuPerParentMs: 5, msPerParent: 10 })]);
    const g = growth(small, large)!;
    expect(g.from).to.equal(1000);
    expect(g.to).to.equal(10000);
    expect(g.peakRssKiB).to.be.closeTo(100, 1e-6);
    expect(g.cpuMs).to.be.closeTo(5, 1e-6);
    expect(g.timeMs).to.be.closeTo(10, 1e-6);
    expect(g.heapKiB).to.be.closeTo(50, 1e-6);
    expect(growth(large, small)).to.equal(undefined);
  });

  function twoN(maestroKiB: number): Summary {
    const runs = [1000, 10000].flatMap((n) => [
      run('maestro', n, 1, { rest: 150, perParentKiB: maestroKiB, cpuPerParentMs: 5, msPerParent: 10, startupWrites: n === 10000 ? 3 : 0 }),
      run('controller-runtime', n, 1, { rest: 30, perParentKiB: 20, cpuPerParentMs: 4, msPerParent: 10 }),
    ]);
    return { byN: summarizeRuns(runs, ['maestro', 'controller-runtime', 'baseline', 'peer']) };
  }

  it("marks issue #16's targets met or not met from the measured figures", () => {
    const list = targets(twoN(30));
    const find = (name: string) => list.find((t) => t.name.startsWith(name))!;
    expect(find('Peak RSS vs controller-runtime, N = 1,000').met).to.equal(false); // (150+29.3)/(30+19.5) = 3.6×
    expect(find('RSS at rest').met).to.equal(false); // 150/30 = 5×
    expect(find('CPU during convergence vs controller-runtime, N = 1,000').met).to.equal(true); // 1.25×
    expect(find('Convergence time vs controller-runtime, N = 1,000').met).to.equal(true); // 1.00×
    expect(find('Start-up CPU').met).to.equal(false); // 0.5 s
    expect(find('Startup over 1,000').met).to.equal(true);
    expect(find('Startup over 10,000').met).to.equal(false);
    expect(find('Steady state reconciles only the changed parents, N = 1,000').met).to.equal(true);
    expect(find('Peak RSS growth per parent').measured).to.match(/^1\.50× \(30\.0 vs 20\.0 KiB per parent\)/);
    expect(find('Peak RSS growth per parent').met).to.equal(true);
    expect(targets(twoN(50)).find((t) => t.name.startsWith('Peak RSS growth'))!.met).to.equal(false);
    // One round each: the time's ratio has no spread to show, and says so.
    expect(find('Convergence time vs controller-runtime, N = 1,000').measured).to.contain('one round: no range');
  });

  it('names every run a merged report is made of, with its machine, instead of one run on the last machine', () => {
    const machine = { cores: 2, cpu: 'Xeon', memory: '1 GiB', node: 'v24', os: 'Linux b', kubernetes: 'v1.36.3' };
    const base = { machine, options: { n: [1000], rounds: [1], concurrency: 8, cacheObjects: 0 }, summary: { byN: twoN(30).byN.slice(0, 1) } };
    const merged = markdown({ ...base, date: 'd1, d2', durationS: 600, sources: [
      { date: 'd1', cpu: 'EPYC', os: 'Linux a', durationS: 300 }, { date: 'd2', cpu: 'Xeon', os: 'Linux b', durationS: 300 },
    ] });
    expect(merged).to.contain('Merged from 2 runs: d1 (EPYC, Linux a, 5.0 min); d2 (Xeon, Linux b, 5.0 min). The last: 2 cores (Xeon)');
    expect(merged).not.to.contain('whole run');
    expect(markdown({ ...base, date: 'd2', durationS: 300 })).to.contain('d2 · 2 cores (Xeon), 1 GiB · Node v24 · Linux b · kube-apiserver v1.36.3 + etcd on the same machine · whole run 5.0 min');
  });

  it('leads the markdown with Maestro vs controller-runtime at both N, then per-parent figures, then every contender run', () => {
    const text = markdown({
      machine: { cores: 2, cpu: 'test', memory: '1 GiB', node: 'v24', os: 'Linux', kubernetes: 'v1.36.3' },
      date: '2026-12-02', options: { n: [1000, 10000], rounds: [3, 1], concurrency: 8, cacheObjects: 0 }, durationS: 60, summary: twoN(30),
    });
    const vs = text.indexOf('Maestro vs controller-runtime');
    const per = text.indexOf('Per parent');
    // Only those that ran are named (here two of the four).
    const all = text.indexOf('### 3. Maestro, controller-runtime, N = 1,000');
    expect(text).not.to.contain('All contenders');
    expect(text).to.contain('Growth is');
    expect(vs).to.be.greaterThan(0);
    expect(per).to.be.greaterThan(vs);
    expect(all).to.be.greaterThan(per);
    expect(text).to.contain('| controller-runtime, N = 1,000 | Maestro | Maestro / CR | controller-runtime, N = 10,000 | Maestro | Maestro / CR |');
    expect(text).to.match(/\| RSS once started, no objects \(MiB\) \| 30\.0 \| 150\.0 \| 5\.00× \|/);
    expect(text).to.contain('| **Maestro / controller-runtime** |');
    expect(text).to.contain('**not met**');
    const oneN = markdown({
      machine: { cores: 2, cpu: 'test', memory: '1 GiB', node: 'v24', os: 'Linux', kubernetes: 'v1.36.3' },
      date: '2026-12-02', options: { n: [1000], rounds: [1], concurrency: 8, cacheObjects: 0 }, durationS: 60, summary: { byN: twoN(30).byN.slice(0, 1) },
    });
    expect(oneN, 'one N: no growth to describe').not.to.contain('Growth is');
    expect(oneN).not.to.contain('do not count');
    const quick = markdown({
      machine: { cores: 2, cpu: 'test', memory: '1 GiB', node: 'v24', os: 'Linux', kubernetes: 'v1.36.3' },
      date: '2026-12-03', options: { n: [200], rounds: [1], concurrency: 8, cacheObjects: 0 }, durationS: 60,
      summary: { byN: summarizeRuns((['maestro', 'controller-runtime'] as const).map((c) => run(c, 200, 1, { rest: 100, perParentKiB: 20, cpuPerParentMs: 3, msPerParent: 12 })), ['maestro', 'controller-runtime']) },
    });
    expect(quick).to.contain('### Targets');
    expect(quick).to.contain('The targets are set at N = 1,000 and 10,000; the rows at N = 200 are a first look and do not count.');
  });

  it('reports scoped caches (metadata only, label-selected) against the whole-object informer, with the < 30 % target', () => {
    const result = (mode: CacheMode, objects: number, heapMiB: number): CacheMemoryResult =>
      ({ mode, objects, expected: objects, heapBytesPerObject: (heapMiB * MiB) / objects, heapBytes: heapMiB * MiB, jsonBytesServed: 1400, jsonBytesCached: 1100, syncMs: 1 });
    const cache = summarizeCache({
      objects: 1000,
      maestro: [result('maestro', 1000, 2)], raw: [result('raw', 1000, 1.5)],
      metadata: [result('metadata', 1000, 0.5)], selected: [result('selected', 100, 0.2)],
    });
    const summary: Summary = { ...twoN(30), cache };
    const target = targets(summary).find((t) => t.name.startsWith('Metadata-only cache heap'))!;
    expect(target).to.include({ measured: '25.0 % (0.5 MiB vs 2.0 MiB)', met: true });
    const text = markdown({
      machine: { cores: 2, cpu: 'test', memory: '1 GiB', node: 'v24', os: 'Linux', kubernetes: 'v1.36.3' },
      date: '2026-12-02', options: { n: [1000, 10000], rounds: [3, 1], concurrency: 8, cacheObjects: 1000 }, durationS: 60, summary,
    });
    expect(text).to.match(/\| metadata only .*\| 1,000 \| 0\.5 \| 25\.0 % \|/);
    expect(text).to.match(/\| label-selected, 1 in 10 .*\| 100 of 100 matching \| 0\.2 \| 10\.0 % \|/);
    // Results saved before the scoped modes existed still report (no scoped rows, no target).
    const old = summarizeCache({ objects: 1000, maestro: [{ ...result('maestro', 1000, 2), heapBytes: undefined }], raw: [result('raw', 1000, 1.5)] });
    expect(old.totals.maestro.median).to.be.closeTo(2 * MiB, 1);
    expect(targets({ ...twoN(30), cache: old }).some((t) => t.name.startsWith('Metadata-only'))).to.equal(false);
  });

  it('merges saved results per N: the last file with runs at an N gives them all, older files keep the other Ns', () => {
    const figures = { rest: 30, perParentKiB: 10, cpuPerParentMs: 5, msPerParent: 10 };
    const older = [run('maestro', 1000, 1, figures), run('maestro', 1000, 2, figures), run('maestro', 10000, 1, figures)];
    const newer = [run('maestro', 1000, 1, { ...figures, rest: 20 })];
    const merged = mergeRuns([older, newer]);
    expect(merged.map((r) => [r.n, r.round])).to.deep.equal([[1000, 1], [10000, 1]]);
    expect(merged[0]).to.equal(newer[0]);
    expect(merged[1]).to.equal(older[2]);
    expect(mergeRuns([newer, older]).map((r) => [r.n, r.round]), 'the order of the files decides').to.deep.equal([[1000, 1], [1000, 2], [10000, 1]]);
  });
});
