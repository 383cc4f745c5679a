// `npm run bench`: Maestro against controller-runtime (the Go library most operators are
// built with), the limit of the API server (a hand-written client-node loop) and the
// TypeScript peer (@dot-i/k8s-operator), on one local control plane. Progress on stderr,
// the result (markdown, or JSON with --json) on stdout. `--help` lists the flags;
// bench/README.md says what is measured and how.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem, type } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { bundle } from '../lib/cli/bundle.js';
import { controlPlaneAssets, startControlPlane, type ControlPlane } from '../lib/testing/index.js';
import { runCache, type CacheResults } from './cache.js';
import { exited, killChildren, nextMessage, spawnChild } from './children.js';
import { controllerRuntimeBinary, GoMissingError } from './controller-runtime.js';
import { contenderNodeFlags, roundOrder, runConvergence, type RunResult } from './convergence.js';
import { Api } from './kube.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import type { OverheadResult } from './overhead.js';
import { findProcess, hasProc } from './proc.js';
import { markdown, mergeRuns, summarizeCache, summarizeOverhead, summarizeRuns, targets, type ReportInput, type Summary } from './report.js';
import { siteCRD } from './site.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '../..');
const peerDir = join(root, 'bench', 'peer');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Installs the peer into bench/peer/node_modules (from its lockfile) when missing. */
function ensurePeer(): void {
  if (existsSync(join(peerDir, 'node_modules', '@dot-i', 'k8s-operator', 'package.json'))) return;
  log('installing the peer (@dot-i/k8s-operator) into bench/peer/node_modules');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: peerDir, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`npm ci in bench/peer failed (exit ${result.status ?? result.error?.message})`);
}

async function runOverhead(rounds: number): Promise<OverheadResult[]> {
  const results: OverheadResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    const child = spawnChild({
      module: join(benchDir, 'overhead.js'),
      label: 'overhead',
      execArgv: ['--expose-gc', '--max-semi-space-size=128'],
    });
    try {
      const result = await nextMessage<{ type: string; result?: OverheadResult }, OverheadResult>(child, 'overhead', 300_000, (m) => (m.type === 'result' ? m.result : undefined));
      await exited(child);
      results.push(result);
      log(`overhead round ${round}: conduct() ${result.conduct.usPerCall.toFixed(2)} µs (${Math.round(result.conduct.bytesPerCall)} B), `
        + `direct ${result.direct.usPerCall.toFixed(2)} µs (${Math.round(result.direct.bytesPerCall)} B): ${result.overheadUsPerStep.toFixed(2)} µs per step`);
    } finally {
      child.kill('SIGKILL');
    }
  }
  return results;
}

/** What --save writes (and --from reads). */
interface Saved extends ReportInput {
  runs: RunResult[];
  overhead?: OverheadResult[];
  cache?: CacheResults;
}

/** Prints the report of saved results, merged (at each N the runs of the last file that has that N; overhead and cache from the last file that has them). */
function report(files: string[], opts: BenchOptions): void {
  const saved = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Saved);
  const runs = mergeRuns(saved.map((s) => s.runs));
  const ns = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);
  const roundsAt = (n: number) => Math.max(0, ...runs.filter((r) => r.n === n).map((r) => r.round));
  const last = saved[saved.length - 1]!;
  const overhead = [...saved].reverse().find((s) => s.overhead)?.overhead;
  const cache = [...saved].reverse().find((s) => s.cache)?.cache;
  const summary: Summary = { byN: summarizeRuns(runs, opts.contenders) };
  if (overhead) summary.overhead = summarizeOverhead(overhead);
  if (cache) summary.cache = summarizeCache(cache);
  const input: ReportInput = {
    machine: last.machine,
    date: saved.map((s) => s.date).join(', '),
    options: { ...last.options, n: ns, rounds: ns.map(roundsAt) },
    durationS: saved.reduce((sum, s) => sum + s.durationS, 0),
    ...(saved.length > 1 ? { sources: saved.map((s) => ({ date: s.date, cpu: String(s.machine['cpu'] ?? '?'), os: String(s.machine['os'] ?? '?'), durationS: s.durationS })) } : {}),
    summary,
  };
  process.stdout.write(opts.json ? `${JSON.stringify({ ...input, targets: targets(summary) }, null, 2)}\n` : `${markdown(input)}\n`);
}

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`[bench] ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (opts.from.length) return report(opts.from, opts);

  const began = performance.now();
  const date = new Date().toISOString();
  const converge = opts.only.includes('convergence');
  const needsPlane = converge || opts.only.includes('cache');
  if (converge && !hasProc()) throw new Error('the bench reads CPU and RSS from /proc/<pid>, which this system does not have (Linux only)');
  // Fail before anything starts when a contender cannot be had.
  let crBinary: string | undefined;
  if (converge && opts.contenders.includes('controller-runtime')) {
    try {
      crBinary = controllerRuntimeBinary(join(root, 'bench', 'controller-runtime'), log);
    } catch (err) {
      if (err instanceof GoMissingError) {
        process.stderr.write(`[bench] ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
  }
  if (converge && opts.contenders.includes('peer')) ensurePeer();
  // The Maestro contender runs as an operator image runs it: bundled (maestro-operator bundle).
  let maestroModule: string | undefined;
  if (converge && opts.contenders.includes('maestro') && !opts.maestroModules) {
    // Its compile cache made for the flags it runs with (V8 takes cached code only under the flags it was made with).
    const bundled = await bundle({ entry: join(benchDir, 'contenders', 'maestro.js'), outdir: join(benchDir, 'bundle'), nodeFlags: contenderNodeFlags('maestro') });
    maestroModule = bundled.entry;
    log(`maestro contender: bundled into ${bundled.code} (${(bundled.bytes / 1048576).toFixed(1)} MiB${bundled.compileCache ? ', with its compile cache' : ', WITHOUT a compile cache'}), run through ${bundled.entry}`);
    for (const warning of bundled.warnings) log(warning.trimEnd());
  }

  let plane: ControlPlane | undefined;
  let controlPlane: { apiServerPid: number; etcdPid: number } | undefined;
  let api: Api | undefined;
  let interrupted = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping`);
    killChildren();
    api?.close();
    void (plane?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('exit', killChildren);

  const machine: Record<string, string | number> = {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    os: `${type()} ${release()}`,
  };
  if (converge && opts.contenders.includes('maestro')) machine['maestro contender'] = maestroModule ? 'bundle' : 'modules';
  const runs: RunResult[] = [];
  let overhead: OverheadResult[] | undefined;
  let cache: CacheResults | undefined;
  const partial = (): Saved => ({
    machine, date, durationS: (performance.now() - began) / 1000,
    summary: { byN: summarizeRuns(runs, opts.contenders) },
    options: { n: opts.n, rounds: opts.rounds, concurrency: opts.concurrency, cacheObjects: opts.cacheObjects },
    runs, ...(overhead ? { overhead } : {}),
  });
  try {
    // The micro-benchmark first, while nothing else of ours runs.
    if (opts.only.includes('overhead')) {
      log('conductor overhead');
      overhead = await runOverhead(opts.rounds[0]!);
    }
    if (needsPlane) {
      log('starting the local control plane');
      const assets = await controlPlaneAssets({ build: true, log: (line) => log(line) });
      plane = await startControlPlane({
        assets,
        // Room for the Services of every run (the default /24 has 254 cluster IPs); deleted
        // Services give their IPs back only after a while, so be generous.
        apiServerFlags: { 'service-cluster-ip-range': '10.0.0.0/12' },
        log: (line) => log(`control plane: ${line}`),
      });
      api = new Api(plane.kubeConfig);
      // The components of this plane carry its directory in their flags.
      const apiServerPid = findProcess('kube-apiserver', plane.dir);
      const etcdPid = findProcess('etcd', plane.dir);
      controlPlane = apiServerPid && etcdPid ? { apiServerPid, etcdPid } : undefined;
      if (!controlPlane) log('control plane: kube-apiserver or etcd not found in /proc; their CPU is not reported');
      const version = await api.send<{ gitVersion: string }>('GET', '/version');
      machine['kubernetes'] = version.gitVersion;
      await plane.installCRDs([siteCRD()]);
    }
    if (converge) {
      const profileDir = opts.profile ? join(root, 'bench', 'profiles') : undefined;
      const heapSnapshotDir = opts.heapSnapshot ? join(root, 'bench', 'profiles') : undefined;
      for (const dir of [profileDir, heapSnapshotDir]) if (dir) mkdirSync(dir, { recursive: true });
      // Warm the API server's paths (Site creates, applies, status patches) once, unrecorded,
      // so that the first contender of round 1 does not pay for it.
      const warmup = Math.min(opts.n[0]!, 200);
      log(`warm-up: baseline with ${warmup} Sites (not recorded)`);
      const common = {
        api: api!, kubeconfigPath: plane!.kubeconfigPath, benchDir, peerDir, concurrency: opts.concurrency,
        controllerRuntimeBinary: crBinary, maestroModule, controlPlane, steady: opts.only.includes('steady'), startup: opts.only.includes('startup'), log,
      };
      const warm = await runConvergence('baseline', { ...common, n: warmup, round: 0, steady: false, startup: false });
      if (warm.error) throw new Error(`the warm-up run failed: ${warm.error}`);
      for (const [i, n] of opts.n.entries()) {
        const rounds = opts.rounds[i]!;
        for (let round = 1; round <= rounds; round++) {
          for (const [place, contender] of roundOrder(opts.contenders, round).entries()) {
            if (interrupted) return;
            log(`N = ${n}, round ${round}/${rounds}: ${contender}`);
            runs.push({ ...await runConvergence(contender, { ...common, n, round, profileDir, heapSnapshotDir }), position: place + 1 });
            // A long run that is interrupted keeps what it measured (report it with --from).
            if (opts.save) writeFileSync(opts.save, `${JSON.stringify(partial(), null, 2)}\n`);
          }
        }
      }
      if (profileDir || heapSnapshotDir) log(`profiles of the Maestro contender: ${profileDir ?? heapSnapshotDir} (summaries: node dist/bench/profile-summary.js FILE)`);
    }
    if (opts.only.includes('cache')) {
      log(`cache memory (${opts.cacheObjects} ConfigMaps)`);
      cache = await runCache({ api: api!, kubeconfigPath: plane!.kubeconfigPath, benchDir, objects: opts.cacheObjects, rounds: opts.rounds[0]!, log });
    }
  } finally {
    killChildren();
    api?.close();
    if (plane) {
      log('stopping the control plane');
      await plane.stop();
    }
  }

  const summary: Summary = { byN: summarizeRuns(runs, opts.contenders) };
  if (overhead) summary.overhead = summarizeOverhead(overhead);
  if (cache) summary.cache = summarizeCache(cache);
  const durationS = (performance.now() - began) / 1000;
  const input: ReportInput = {
    machine, date, durationS, summary,
    options: { n: converge ? opts.n : [], rounds: converge ? opts.rounds : [], concurrency: opts.concurrency, cacheObjects: opts.cacheObjects },
  };
  const saved: Saved & { targets: unknown } = { ...input, targets: targets(summary), runs, ...(overhead ? { overhead } : {}), ...(cache ? { cache } : {}) };
  const json = `${JSON.stringify(saved, null, 2)}\n`;
  if (opts.save) writeFileSync(opts.save, json);
  process.stdout.write(opts.json ? json : `${markdown(input)}\n`);
  log(`done in ${(durationS / 60).toFixed(1)} min`);
  if (runs.some((r) => r.error)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  killChildren();
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
