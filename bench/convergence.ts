// Scenarios 1 and 2 for one contender in one round: in a fresh namespace, start the
// contender, create N Sites and time until all are Ready (convergence), then change the
// spec of 10 % of them and time until those are Ready for their new generation (steady
// state); count requests and reconciles through the contender's own counters.
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { ContenderStats } from './contender.js';
import { ContenderProcess, spawnChild } from './children.js';
import { Api } from './kube.js';
import { SITE, isReady, site, siteSpec, type SiteObject } from './site.js';

export type ContenderName = 'maestro' | 'baseline' | 'peer';
export const CONTENDERS: readonly ContenderName[] = ['maestro', 'baseline', 'peer'];

export interface ConvergenceOptions {
  api: Api;
  kubeconfigPath: string;
  /** The folder of the compiled bench (dist/bench). */
  benchDir: string;
  peerDir: string;
  n: number;
  concurrency: number;
  round: number;
  /** Write a .cpuprofile of the Maestro contender into this folder. */
  profileDir?: string;
  log: (line: string) => void;
}

/** What one run measured. */
export interface RunResult {
  contender: ContenderName;
  round: number;
  namespace: string;
  n: number;
  /** Set when the run failed (timeout, crash); the other fields are then partial. */
  error?: string;
  /** From the first create to the last Site observed Ready, ms. */
  convergeMs: number;
  /** How long creating the N Sites took (the harness's share), ms. */
  createMs: number;
  /** Counters when the contender reported ready (before any Site existed). */
  atStart: ContenderStats;
  /** After convergence and a quiet second. */
  converged: ContenderStats;
  steady: {
    changed: number;
    /** From the first spec patch to the last changed Site observed Ready for its new generation, ms. */
    readyMs: number;
    /** After the changed Sites converged and a quiet second. */
    after: ContenderStats;
  };
  /** At exit (CPU and peak RSS of the whole life of the process). */
  final: ContenderStats;
}

/** Watches a namespace's Sites and tells when a set of them is Ready for given generations. */
class SiteTracker {
  readonly #readyGeneration = new Map<string, number>();
  #target = new Map<string, number>();
  readonly #satisfied = new Set<string>();
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
    this.#satisfied.add(name);
    if (this.#satisfied.size === this.#target.size) this.#resolve?.(performance.now());
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
      for (const name of target.keys()) this.#check(name);
    });
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#resolve = undefined;
    this.#stop?.();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the contender sends no request and runs no reconcile for a second (at most 20 s); returns its counters then. */
async function quiet(contender: ContenderProcess): Promise<ContenderStats> {
  let previous = await contender.snapshot();
  let stableFor = 0;
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline) {
    await sleep(250);
    const current = await contender.snapshot();
    const same = current.requests.total === previous.requests.total && current.reconciles === previous.reconciles;
    stableFor = same ? stableFor + 250 : 0;
    previous = current;
    if (stableFor >= 1000) break;
  }
  return previous;
}

/** Runs scenarios 1 and 2 for one contender (one round). */
export async function runConvergence(contender: ContenderName, options: ConvergenceOptions): Promise<RunResult> {
  const { api, n, log } = options;
  const namespace = await api.createNamespace(`bench-${contender}-r${options.round}`);
  const tracker = new SiteTracker();
  await tracker.start(api, namespace);
  const execArgv = ['--import', join(options.benchDir, 'count-requests.js')];
  if (options.profileDir && contender === 'maestro') {
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=maestro-round${options.round}.cpuprofile`);
  }
  const proc = new ContenderProcess(spawnChild({
    module: join(options.benchDir, 'contenders', `${contender}.js`),
    label: contender,
    execArgv,
    env: {
      KUBECONFIG: options.kubeconfigPath,
      BENCH_NAMESPACE: namespace,
      BENCH_CONCURRENCY: String(options.concurrency),
      BENCH_PEER_DIR: options.peerDir,
    },
  }), contender);
  const names = Array.from({ length: n }, (_, i) => `site-${String(i).padStart(5, '0')}`);
  const result: Partial<RunResult> & { contender: ContenderName; round: number; namespace: string; n: number } = {
    contender, round: options.round, namespace, n,
  };
  try {
    result.atStart = await proc.ready;
    // Generous: the slowest contender must finish, a stuck one must not hang the bench.
    const timeoutMs = Math.max(120_000, n * 300);

    // 1. Convergence.
    const converged = tracker.expect(new Map(names.map((name) => [name, 1])), timeoutMs);
    converged.catch(() => undefined); // awaited below; observed here in case creating fails first
    const t0 = performance.now();
    const path = `/apis/${SITE.group}/${SITE.version}/namespaces/${namespace}/${SITE.plural}`;
    await Api.pool(names, 32, (name) => api.send('POST', path, site(namespace, name)));
    result.createMs = performance.now() - t0;
    result.convergeMs = (await converged) - t0;
    result.converged = await quiet(proc);
    log(`${contender} round ${options.round}: ${n} Sites Ready in ${(result.convergeMs / 1000).toFixed(2)} s `
      + `(created in ${(result.createMs / 1000).toFixed(2)} s), ${(result.converged.requests.total / n).toFixed(2)} requests/Site, `
      + `${result.converged.reconciles} reconciles, ${result.converged.requests.connections.net} connections`);

    // 2. Steady state: every tenth Site gets a new spec (generation 2).
    const changed = names.filter((_, i) => i % 10 === 0);
    const again = tracker.expect(new Map(changed.map((name) => [name, 2])), timeoutMs);
    again.catch(() => undefined);
    const t1 = performance.now();
    await Api.pool(changed, 32, (name) => api.send('PATCH', `${path}/${name}`, { spec: siteSpec(name, 1) }, 'application/merge-patch+json'));
    const readyMs = (await again) - t1;
    const after = await quiet(proc);
    result.steady = { changed: changed.length, readyMs, after };
    log(`${contender} round ${options.round}: ${changed.length} changed Sites Ready again in ${(readyMs / 1000).toFixed(2)} s, `
      + `${after.reconciles - result.converged.reconciles} reconciles, ${after.requests.total - result.converged.requests.total} requests`);
    result.final = await proc.stop();
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`${contender} round ${options.round} FAILED: ${result.error}`);
    try {
      result.final = await proc.stop();
    } catch {
      proc.kill();
    }
  } finally {
    tracker.stop();
    await api.emptyNamespace(namespace).catch((err: unknown) => log(`cleaning up ${namespace} failed: ${String(err)}`));
  }
  return result as RunResult;
}
