// Scenarios 1-3 for one contender in one round: in a fresh namespace, start the
// contender, create N Sites and time until all are Ready (convergence), then change the
// spec of 10 % of them and time until those are Ready for their new generation (steady
// state), then stop it and start a new process of it over the N converged Sites
// (startup). Requests and reconciles come from the contender's own counters, CPU and RSS
// from its /proc (read by the harness).
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { ContenderStats } from './contender.js';
import { ContenderProcess, spawnBinary, spawnNodeContender } from './children.js';
import { Api } from './kube.js';
import { writeRequests } from './report.js';
import { readMachine, readProc, type MachineTimes } from './proc.js';
import { SITE, isReady, site, siteSpec, type SiteObject } from './site.js';
import { OPERATOR_NODE_FLAGS } from '../lib/cli/node-flags.js';

export type ContenderName = 'maestro' | 'controller-runtime' | 'baseline' | 'peer';
/** In the order they are reported (the order they run in changes by round: {@link roundOrder}). */
export const CONTENDERS: readonly ContenderName[] = ['maestro', 'controller-runtime', 'baseline', 'peer'];

/**
 * The order the contenders run in round `round` (from 1): a Williams design, so that over
 * every n rounds (n contenders, n even; two take turns) each contender runs first once and
 * right after each other one once. A contender that always ran right after the same other
 * one would always meet the API server as that one left it (its cleanup still being paid
 * for); a mere rotation would keep who follows whom.
 */
export function roundOrder<T>(contenders: readonly T[], round: number): T[] {
  const n = contenders.length;
  // The first row 0, 1, n-1, 2, n-2, ...; row r adds r (mod n) to each place.
  const firstRow = Array.from({ length: n }, (_, i) => (i === 0 ? 0 : i % 2 === 1 ? (i + 1) / 2 : n - i / 2));
  return firstRow.map((index) => contenders[(index + round - 1) % n]!);
}

export interface ConvergenceOptions {
  api: Api;
  kubeconfigPath: string;
  /** The folder of the compiled bench (dist/bench). */
  benchDir: string;
  peerDir: string;
  n: number;
  concurrency: number;
  round: number;
  /**
   * The Maestro contender's module: the bundle `maestro-operator bundle` made of
   * contenders/maestro.js (as the sample image ships an operator), or that module itself
   * (`--maestro-modules`). Default the module.
   */
  maestroModule?: string;
  /** The controller-runtime contender's binary (required for that contender). */
  controllerRuntimeBinary?: string;
  /** Run the steady-state scenario after convergence (default true). */
  steady?: boolean;
  /** Run the startup scenario after convergence (default true). */
  startup?: boolean;
  /** Write a .cpuprofile of the Maestro contender into this folder. */
  profileDir?: string;
  /** Write heap snapshots of the Maestro contender into this folder (after its full GCs). */
  heapSnapshotDir?: string;
  /** The control plane's processes, to read their CPU during convergence (when found). */
  controlPlane?: { apiServerPid: number; etcdPid: number };
  log: (line: string) => void;
}

/** What one run measured. */
export interface RunResult {
  contender: ContenderName;
  round: number;
  /** Its place in the round's order (1: first; see {@link roundOrder}). Absent in older results. */
  position?: number;
  namespace: string;
  n: number;
  /** Set when the run failed (timeout, crash); the other fields are then partial. */
  error?: string;
  /** From the first create to the last Site observed Ready, ms. */
  convergeMs: number;
  /** How long creating the N Sites took (the harness's share), ms. */
  createMs: number;
  /**
   * From the first create until 10, 25, 50, 75, 90 and 100 % of the Sites were seen
   * Ready, ms: where in the run a difference in `convergeMs` arises (absent in older results).
   */
  progressMs?: number[];
  /** Counters when the contender reported ready (caches synced, before any Site existed). */
  atStart: ContenderStats;
  /**
   * While the contender started (from before its spawn to its ready): kube-apiserver's and
   * etcd's CPU (s) and the machine's busy share (0–1, every process on it), to tell a slow
   * start from a busy machine. `operatorCpuS` is the contender's CPU to start, as in
   * `atStart`. Absent in older results.
   */
  whileStarting?: { operatorCpuS: number; apiServerCpuS?: number; etcdCpuS?: number; machineBusy?: number };
  /** After convergence and a quiet second. */
  converged: ContenderStats;
  /**
   * CPU (utime+stime, s) of kube-apiserver and etcd over the same span as the
   * contender's convergence CPU (from its ready to converged and quiet; the harness's
   * creates included, the same for every contender). Absent in older results.
   */
  controlPlaneCpuS?: { apiServer: number; etcd: number };
  /**
   * CPU from the first create until the last Site was seen Ready (the span of `convergeMs`),
   * read from /proc at both ends: the contender's, kube-apiserver's and etcd's (s), and the
   * share of the machine's CPU time that was busy (0–1, every process on it, the harness's
   * included). `converged`'s figures run on to a quiet second after it, and so also count
   * work a contender does after its last parent is Ready (controller-runtime's reconciles
   * after its own children's events). Absent in older results.
   */
  untilReady?: { operatorCpuS: number; apiServerCpuS?: number; etcdCpuS?: number; machineBusy?: number };
  /** Right after `converged`, with a full GC first (heapUsedBytes is the live heap). */
  convergedHeap: ContenderStats;
  steady?: {
    changed: number;
    /** From the first spec patch to the last changed Site observed Ready for its new generation, ms. */
    readyMs: number;
    /** After the changed Sites converged and a quiet second. */
    after: ContenderStats;
  };
  /** After the operator stopped, before the process exited (CPU and peak RSS of the whole life). */
  final: ContenderStats;
  /** A new process of the contender started over the N converged Sites. */
  startup?: {
    /** From spawning the process to its `ready` (caches synced), ms. */
    readyMs: number;
    /** From spawning the process until its first pass is done (its last request or reconcile before it went quiet), ms. */
    passMs: number;
    /** After the pass and a quiet second. */
    quiet: ContenderStats;
    /**
     * Whether the pass was seen to its end: the contender went quiet before the deadline
     * and, if it reconciles at startup, reconciled all N. Incomplete startups are left out
     * of the figures (results saved before this field existed: judged by the reconciles).
     */
    complete?: boolean;
    /** Same moment, after a full GC. */
    heap: ContenderStats;
    /** At exit. */
    final: ContenderStats;
  };
}

/** Watches a namespace's Sites and tells when a set of them is Ready for given generations. */
class SiteTracker {
  readonly #readyGeneration = new Map<string, number>();
  #target = new Map<string, number>();
  readonly #satisfied = new Set<string>();
  /** When each of the current target was first seen satisfied (performance.now()), in order. */
  readonly #satisfiedAt: number[] = [];
  #resolve: ((at: number) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stop: (() => void) | undefined;

  async start(api: Api, namespace: string): Promise<void> {
    const path = `/apis/${SITE.group}/${SITE.version}/namespaces/${namespace}/${SITE.plural}`;
    const watch = await api.watch<SiteObject>(path, (event) => {
      if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#observe(event.object);
    }, (items) => items.forEach((item) => this.#observe(item)));
    this.#stop = () => watch.stop();
  }

  #observe(obj: SiteObject): void {
    if (!isReady(obj)) return;
    const name = obj.metadata!.name!;
    this.#readyGeneration.set(name, obj.metadata!.generation!);
    this.#check(name);
  }

  #check(name: string): void {
    const want = this.#target.get(name);
    if (want === undefined || this.#satisfied.has(name) || (this.#readyGeneration.get(name) ?? 0) < want) return;
    const now = performance.now();
    this.#satisfied.add(name);
    this.#satisfiedAt.push(now);
    if (this.#satisfied.size === this.#target.size) this.#resolve?.(now);
  }

  /** Resolves with the time the last of `target` (name → generation) was seen Ready; rejects after `timeoutMs`. */
  expect(target: Map<string, number>, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#resolve = undefined;
        reject(new Error(`only ${this.#satisfied.size} of ${target.size} Sites Ready within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.#timer = timer;
      this.#resolve = (at) => {
        clearTimeout(timer);
        this.#resolve = undefined;
        resolve(at);
      };
      this.#target = target;
      this.#satisfied.clear();
      this.#satisfiedAt.length = 0;
      for (const name of target.keys()) this.#check(name);
    });
  }

  /** Times (ms after `since`) at which 10, 25, 50, 75, 90 and 100 % of the current target were Ready. */
  progress(since: number): number[] {
    const at = this.#satisfiedAt;
    const total = this.#target.size;
    return [0.1, 0.25, 0.5, 0.75, 0.9, 1].map((q) => (at[Math.max(0, Math.ceil(q * total) - 1)] ?? NaN) - since);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#resolve = undefined;
    this.#stop?.();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the contender sends no request and runs no reconcile for `stableMs`, at most
 * `maxMs`; returns its counters then and whether it did settle (false: the deadline came first).
 */
async function quiet(contender: ContenderProcess, maxMs: number, stableMs = 1000): Promise<{ stats: ContenderStats; settled: boolean }> {
  let previous = await contender.snapshot();
  let stableFor = 0;
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    await sleep(250);
    const current = await contender.snapshot();
    const same = current.requests.total === previous.requests.total && current.reconciles === previous.reconciles;
    stableFor = same ? stableFor + 250 : 0;
    previous = current;
    if (stableFor >= stableMs) return { stats: previous, settled: true };
  }
  return { stats: previous, settled: false };
}

/**
 * Waits until kube-apiserver and etcd are idle: together at most `maxShare` of one core
 * over `windowMs`, at most `maxMs`. The API server has work of its own that comes late
 * (after a run deleted thousands of objects, the release of their Services' cluster IPs,
 * its Go runtime's collections); a contender started into it would be measured on a
 * busier machine (0.46 s of kube-apiserver CPU during one 0.38 s start was seen). Every
 * contender waits the same way before each start. Returns how long it waited, ms, and
 * whether the plane went idle; without the plane's process ids it returns at once, and a
 * plane whose processes are gone counts as idle (the run then fails on its own).
 */
export async function planeIdle(
  pids: ConvergenceOptions['controlPlane'],
  { windowMs = 500, maxShare = 0.1, maxMs = 30_000 }: { windowMs?: number; maxShare?: number; maxMs?: number } = {},
): Promise<{ waitedMs: number; idle: boolean }> {
  const began = performance.now();
  let before = controlPlaneCpu(pids);
  if (!before) return { waitedMs: 0, idle: true };
  while (performance.now() - began < maxMs) {
    await sleep(windowMs);
    const now = controlPlaneCpu(pids);
    if (!now) return { waitedMs: performance.now() - began, idle: true };
    const used = now.apiServer - before.apiServer + now.etcd - before.etcd;
    if (used <= maxShare * windowMs / 1000) return { waitedMs: performance.now() - began, idle: true };
    before = now;
  }
  return { waitedMs: performance.now() - began, idle: false };
}

/** Node flags of a contender beyond the harness's own: Maestro runs as it is deployed, with the flags of its image and scaffold; the other Node contenders ship none. */
export function contenderNodeFlags(contender: ContenderName): string[] {
  return contender === 'maestro' ? [...OPERATOR_NODE_FLAGS] : [];
}


/** Starts one process of a contender in `namespace`. */
function startContender(contender: ContenderName, namespace: string, options: ConvergenceOptions, label: string): ContenderProcess {
  const env = {
    KUBECONFIG: options.kubeconfigPath,
    BENCH_NAMESPACE: namespace,
    BENCH_CONCURRENCY: String(options.concurrency),
    BENCH_PEER_DIR: options.peerDir,
  };
  // Listing tens of thousands of objects takes a while at large N.
  const startTimeoutMs = Math.max(120_000, options.n * 30);
  if (contender === 'controller-runtime') {
    if (!options.controllerRuntimeBinary) throw new Error('the controller-runtime contender needs its binary (controllerRuntimeBinary)');
    return new ContenderProcess(spawnBinary({ path: options.controllerRuntimeBinary, label, env }), label, startTimeoutMs);
  }
  const execArgv = ['--require', join(options.benchDir, 'count-requests.cjs'), ...contenderNodeFlags(contender)];
  const extra: Record<string, string> = {};
  if (options.heapSnapshotDir && contender === 'maestro') {
    extra['BENCH_HEAP_SNAPSHOT_DIR'] = options.heapSnapshotDir;
    extra['BENCH_LABEL'] = `maestro-n${options.n}-round${options.round}-${label.includes('startup') ? 'startup' : 'convergence'}`;
  }
  if (options.profileDir && contender === 'maestro') {
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=maestro-n${options.n}-round${options.round}-${label.includes('startup') ? 'startup' : 'convergence'}.cpuprofile`);
  }
  const module = contender === 'maestro' && options.maestroModule ? options.maestroModule : join(options.benchDir, 'contenders', `${contender}.js`);
  return new ContenderProcess(spawnNodeContender({ module, label, execArgv, env: { ...env, ...extra } }), label, startTimeoutMs);
}

/** CPU seconds of the control plane's processes so far; undefined when they cannot be read. */
function controlPlaneCpu(pids: ConvergenceOptions['controlPlane']): { apiServer: number; etcd: number } | undefined {
  if (!pids) return undefined;
  try {
    return { apiServer: readProc(pids.apiServerPid).cpuS, etcd: readProc(pids.etcdPid).cpuS };
  } catch {
    return undefined;
  }
}

/** CPU counters at one moment, for {@link RunResult.untilReady}; a part that cannot be read is undefined. */
interface CpuReading {
  operatorS: number | undefined;
  plane: { apiServer: number; etcd: number } | undefined;
  machine: MachineTimes | undefined;
}

function cpuReading(proc: ContenderProcess | undefined, pids: ConvergenceOptions['controlPlane']): CpuReading {
  let machine: MachineTimes | undefined;
  try {
    machine = readMachine();
  } catch {
    // No /proc/stat: no share of the machine.
  }
  return { operatorS: proc?.sample()?.cpuS, plane: controlPlaneCpu(pids), machine };
}

/**
 * The CPU spent between two readings, or undefined when the contender's could not be read;
 * the control plane's and the machine's busy share only where they could be.
 */
export function cpuBetween(from: CpuReading, to: CpuReading): RunResult['untilReady'] {
  if (from.operatorS === undefined || to.operatorS === undefined) return undefined;
  const total = from.machine && to.machine ? to.machine.totalTicks - from.machine.totalTicks : 0;
  return {
    operatorCpuS: to.operatorS - from.operatorS,
    ...(from.plane && to.plane ? { apiServerCpuS: to.plane.apiServer - from.plane.apiServer, etcdCpuS: to.plane.etcd - from.plane.etcd } : {}),
    ...(from.machine && to.machine && total > 0 ? { machineBusy: (to.machine.busyTicks - from.machine.busyTicks) / total } : {}),
  };
}

/** {@link planeIdle} before a contender's start; says when the plane stayed busy. Returns how long it waited, ms. */
async function idleBeforeStart(options: ConvergenceOptions, label: string): Promise<number> {
  const { waitedMs, idle } = await planeIdle(options.controlPlane);
  if (!idle) options.log(`${label} round ${options.round}: WARNING: the control plane was still busy after ${(waitedMs / 1000).toFixed(0)} s; starting anyway`);
  return waitedMs;
}

/** Runs the scenarios for one contender (one round). */
export async function runConvergence(contender: ContenderName, options: ConvergenceOptions): Promise<RunResult> {
  const { api, n, log } = options;
  const namespace = await api.createNamespace(`bench-${contender === 'controller-runtime' ? 'cr' : contender}-r${options.round}`);
  const tracker = new SiteTracker();
  await tracker.start(api, namespace);
  const names = Array.from({ length: n }, (_, i) => `site-${String(i).padStart(5, '0')}`);
  const result: Partial<RunResult> & { contender: ContenderName; round: number; namespace: string; n: number } = {
    contender, round: options.round, namespace, n,
  };
  // Generous: the slowest contender must finish, a stuck one must not hang the bench.
  const timeoutMs = Math.max(120_000, n * 300);
  const quietMaxMs = Math.max(60_000, n * 20);
  let proc: ContenderProcess | undefined;
  try {
    const waitedMs = await idleBeforeStart(options, contender);
    const beforeSpawn = { ...cpuReading(undefined, options.controlPlane), operatorS: 0 };
    proc = startContender(contender, namespace, options, contender);
    result.atStart = await proc.ready;
    const started = cpuBetween(beforeSpawn, { ...cpuReading(undefined, options.controlPlane), operatorS: result.atStart.proc.cpuS });
    if (started) result.whileStarting = started;
    log(`${contender} round ${options.round}: ready in ${((proc.readyAt! - proc.spawnedAt) / 1000).toFixed(2)} s, CPU ${result.atStart.proc.cpuS.toFixed(2)} s`
      + (started?.apiServerCpuS === undefined ? '' : `; meanwhile kube-apiserver ${started.apiServerCpuS.toFixed(2)} s, etcd ${started.etcdCpuS!.toFixed(2)} s`)
      + (started?.machineBusy === undefined ? '' : `, the machine ${(started.machineBusy * 100).toFixed(0)} % busy`)
      + ` (waited ${(waitedMs / 1000).toFixed(1)} s for an idle control plane)`);
    const planeAtStart = controlPlaneCpu(options.controlPlane);

    // 1. Convergence.
    const converged = tracker.expect(new Map(names.map((name) => [name, 1])), timeoutMs);
    converged.catch(() => undefined); // awaited below; observed here in case creating fails first
    const beforeCreating = cpuReading(proc, options.controlPlane);
    // Read as soon as the last Site is seen Ready, before anything else the harness does.
    const running = proc;
    const atLastReady = converged.then(() => cpuReading(running, options.controlPlane));
    atLastReady.catch(() => undefined);
    const t0 = performance.now();
    const path = `/apis/${SITE.group}/${SITE.version}/namespaces/${namespace}/${SITE.plural}`;
    await Api.pool(names, 32, (name) => api.send('POST', path, site(namespace, name)));
    result.createMs = performance.now() - t0;
    result.convergeMs = (await converged) - t0;
    result.progressMs = tracker.progress(t0);
    result.untilReady = cpuBetween(beforeCreating, await atLastReady);
    const settled = await quiet(proc, quietMaxMs);
    if (!settled.settled) log(`${contender} round ${options.round}: WARNING: still busy ${Math.round(quietMaxMs / 1000)} s after convergence`);
    result.converged = settled.stats;
    const planeConverged = controlPlaneCpu(options.controlPlane);
    if (planeAtStart && planeConverged) {
      result.controlPlaneCpuS = { apiServer: planeConverged.apiServer - planeAtStart.apiServer, etcd: planeConverged.etcd - planeAtStart.etcd };
    }
    result.convergedHeap = await proc.snapshot(true);
    const connections = result.converged.requests.connections.net;
    log(`${contender} round ${options.round}: ${n} Sites Ready in ${(result.convergeMs / 1000).toFixed(2)} s `
      + `(created in ${(result.createMs / 1000).toFixed(2)} s; 10/25/50/75/90 % Ready at ${result.progressMs.slice(0, 5).map((ms) => (ms / 1000).toFixed(2)).join('/')} s), ${(result.converged.requests.total / n).toFixed(2)} requests/Site, `
      + `${result.converged.reconciles} reconciles, ${connections} connection${connections === 1 ? '' : 's'}, `
      + `CPU ${(result.converged.proc.cpuS - result.atStart.proc.cpuS).toFixed(2)} s`
      + (result.untilReady ? ` (${result.untilReady.operatorCpuS.toFixed(2)} s until the last Ready`
        + `${result.untilReady.machineBusy === undefined ? '' : `, the machine ${(result.untilReady.machineBusy * 100).toFixed(0)} % busy`})` : '')
      + `, peak RSS ${(result.converged.proc.peakRssBytes / 2 ** 20).toFixed(0)} MiB`
      + (result.controlPlaneCpuS ? `, kube-apiserver CPU ${result.controlPlaneCpuS.apiServer.toFixed(2)} s, etcd ${result.controlPlaneCpuS.etcd.toFixed(2)} s` : ''));

    // 2. Steady state: every tenth Site gets a new spec (generation 2).
    if (options.steady !== false) {
      const changed = names.filter((_, i) => i % 10 === 0);
      const before = result.convergedHeap;
      const again = tracker.expect(new Map(changed.map((name) => [name, 2])), timeoutMs);
      again.catch(() => undefined);
      const t1 = performance.now();
      await Api.pool(changed, 32, (name) => api.send('PATCH', `${path}/${name}`, { spec: siteSpec(name, 1) }, 'application/merge-patch+json'));
      const readyMs = (await again) - t1;
      const { stats: after, settled } = await quiet(proc, quietMaxMs);
      if (!settled) log(`${contender} round ${options.round}: WARNING: still busy ${Math.round(quietMaxMs / 1000)} s after the steady-state change`);
      result.steady = { changed: changed.length, readyMs, after };
      log(`${contender} round ${options.round}: ${changed.length} changed Sites Ready again in ${(readyMs / 1000).toFixed(2)} s, `
        + `${after.reconciles - before.reconciles} reconciles, ${after.requests.total - before.requests.total} requests`);
    }
    result.final = await proc.stop();
    proc = undefined;

    // 3. Startup: a new process over the N converged Sites (and their children).
    if (options.startup !== false) {
      await idleBeforeStart(options, `${contender} startup`);
      proc = startContender(contender, namespace, options, `${contender} startup`);
      const ready = await proc.ready;
      const readyMs = proc.readyAt! - proc.spawnedAt;
      // A first pass over N parents may take long on a loaded machine.
      const passMaxMs = Math.max(120_000, n * 60);
      let { stats: idle, settled } = await quiet(proc, passMaxMs);
      // An operator that reconciles every parent at startup (Maestro, controller-runtime)
      // is not done before it reconciled all N: a pause of a second in the middle of its
      // pass is not the end of it. Give it up to 10 quiet seconds more.
      if (settled && idle.reconciles > 0 && idle.reconciles < n) {
        log(`${contender} round ${options.round} startup: quiet after ${idle.reconciles} of ${n} reconciles; waiting for more`);
        ({ stats: idle, settled } = await quiet(proc, passMaxMs, 10_000));
      }
      const complete = settled && (idle.reconciles === 0 || idle.reconciles >= n);
      if (!complete) log(`${contender} round ${options.round} startup: WARNING: pass not complete (${idle.reconciles} of ${n} reconciles${settled ? '' : `, still busy after ${Math.round(passMaxMs / 1000)} s`}); left out of the figures`);
      const heap = await proc.snapshot(true);
      // The contender's clock starts with its process, i.e. (within a few ms) at the spawn.
      const passMs = Math.max(readyMs, idle.lastActivityMs);
      const final = await proc.stop();
      proc = undefined;
      result.startup = { readyMs, passMs, quiet: idle, heap, final, complete };
      log(`${contender} round ${options.round} startup over ${n} converged Sites: caches synced in ${(readyMs / 1000).toFixed(2)} s, `
        + `first pass done at ${(passMs / 1000).toFixed(2)} s, ${idle.reconciles} reconciles, ${writeRequests(idle)} writes `
        + `(${idle.requests.total - ready.requests.total} requests after ready), CPU ${idle.proc.cpuS.toFixed(2)} s`);
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`${contender} round ${options.round} FAILED: ${result.error}`);
    if (proc) {
      try {
        const final = await proc.stop();
        result.final ??= final;
      } catch {
        proc.kill();
      }
    }
  } finally {
    tracker.stop();
    await api.emptyNamespace(namespace).catch((err: unknown) => log(`cleaning up ${namespace} failed: ${String(err)}`));
  }
  return result as RunResult;
}
