// `npm run bench`: Maestro against the limit of the API server (a hand-written
// client-node loop) and against the TypeScript peer (@dot-i/k8s-operator), on one local
// control plane. Progress on stderr, the result (markdown, or JSON with --json) on stdout.
//
//   node dist/bench/run.js [--n 1000] [--rounds 3] [--concurrency 8]
//     [--only convergence,overhead,cache] [--contenders maestro,baseline,peer]
//     [--cache-objects 10000] [--json] [--save FILE] [--profile]
//
// See bench/README.md for what is measured and how.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem, type } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { controlPlaneAssets, startControlPlane, type ControlPlane } from '../lib/testing/index.js';
import { runCache, type CacheResults } from './cache.js';
import { exited, killChildren, nextMessage, spawnChild } from './children.js';
import { CONTENDERS, runConvergence, type ContenderName, type RunResult } from './convergence.js';
import { Api } from './kube.js';
import type { OverheadResult } from './overhead.js';
import { markdown, summarizeCache, summarizeContender, summarizeOverhead, targets, type Summary } from './report.js';
import { siteCRD } from './site.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '../..');
const peerDir = join(root, 'bench', 'peer');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const SCENARIOS = ['convergence', 'overhead', 'cache'] as const;
type Scenario = (typeof SCENARIOS)[number];

function options() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '8' },
      only: { type: 'string' },
      contenders: { type: 'string' },
      'cache-objects': { type: 'string', default: '10000' },
      json: { type: 'boolean', default: false },
      save: { type: 'string' },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`usage: npm run bench -- [--n 1000] [--rounds 3] [--concurrency 8] [--only ${SCENARIOS.join(',')}]
                  [--contenders ${CONTENDERS.join(',')}] [--cache-objects 10000] [--json] [--save FILE] [--profile]
  --only         scenarios to run (default all; 'steady' is part of 'convergence')
  --profile      write .cpuprofile files of the Maestro contender into bench/profiles/
  --save FILE    also write the JSON result to FILE
`);
    process.exit(0);
  }
  const int = (name: string, value: string, min: number) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} must be an integer >= ${min}, got '${value}'`);
    return parsed;
  };
  const list = <T extends string>(name: string, value: string | undefined, all: readonly T[], alias: Record<string, T> = {}): T[] => {
    if (!value) return [...all];
    const picked = value.split(',').map((s) => s.trim()).filter(Boolean).map((s) => alias[s] ?? s);
    for (const p of picked) if (!all.includes(p as T)) throw new Error(`--${name}: unknown '${p}' (one of ${all.join(', ')})`);
    return all.filter((a) => picked.includes(a));
  };
  return {
    n: int('n', values.n, 1),
    rounds: int('rounds', values.rounds, 1),
    concurrency: int('concurrency', values.concurrency, 1),
    cacheObjects: int('cache-objects', values['cache-objects'], 1),
    only: list<Scenario>('only', values.only, SCENARIOS, { steady: 'convergence', 'steady-state': 'convergence', memory: 'cache', conductor: 'overhead' }),
    contenders: list<ContenderName>('contenders', values.contenders, CONTENDERS),
    json: values.json,
    save: values.save,
    profile: values.profile,
  };
}

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

async function main(): Promise<void> {
  const opts = options();
  const began = performance.now();
  const date = new Date().toISOString();
  const needsPlane = opts.only.includes('convergence') || opts.only.includes('cache');
  if (opts.only.includes('convergence') && opts.contenders.includes('peer')) ensurePeer();

  let plane: ControlPlane | undefined;
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
  const runs: RunResult[] = [];
  let overhead: OverheadResult[] | undefined;
  let cache: CacheResults | undefined;
  try {
    // The micro-benchmark first, while nothing else of ours runs.
    if (opts.only.includes('overhead')) {
      log('conductor overhead');
      overhead = await runOverhead(opts.rounds);
    }
    if (needsPlane) {
      log('starting the local control plane');
      const assets = await controlPlaneAssets({ build: true, log: (line) => log(line) });
      plane = await startControlPlane({
        assets,
        // Room for the Services of every round (the default /24 has 254 cluster IPs).
        apiServerFlags: { 'service-cluster-ip-range': '10.0.0.0/16' },
        log: (line) => log(`control plane: ${line}`),
      });
      api = new Api(plane.kubeConfig);
      const version = await api.send<{ gitVersion: string }>('GET', '/version');
      machine['kubernetes'] = version.gitVersion;
      await plane.installCRDs([siteCRD()]);
    }
    if (opts.only.includes('convergence')) {
      const profileDir = opts.profile ? join(root, 'bench', 'profiles') : undefined;
      if (profileDir) mkdirSync(profileDir, { recursive: true });
      // Warm the API server's paths (Site creates, applies, status patches) once, unrecorded,
      // so that the first contender of round 1 does not pay for it.
      const warmup = Math.min(opts.n, 200);
      log(`warm-up: baseline with ${warmup} Sites (not recorded)`);
      const warm = await runConvergence('baseline', {
        api: api!, kubeconfigPath: plane!.kubeconfigPath, benchDir, peerDir, n: warmup, concurrency: opts.concurrency, round: 0, log,
      });
      if (warm.error) throw new Error(`the warm-up run failed: ${warm.error}`);
      for (let round = 1; round <= opts.rounds; round++) {
        for (const contender of opts.contenders) {
          if (interrupted) return;
          log(`round ${round}/${opts.rounds}: ${contender}`);
          runs.push(await runConvergence(contender, {
            api: api!, kubeconfigPath: plane!.kubeconfigPath, benchDir, peerDir, n: opts.n, concurrency: opts.concurrency, round, profileDir, log,
          }));
        }
      }
      if (profileDir) log(`CPU profiles of the Maestro contender: ${profileDir}`);
    }
    if (opts.only.includes('cache')) {
      log(`cache memory (${opts.cacheObjects} ConfigMaps)`);
      cache = await runCache({ api: api!, kubeconfigPath: plane!.kubeconfigPath, benchDir, objects: opts.cacheObjects, rounds: opts.rounds, log });
    }
  } finally {
    killChildren();
    api?.close();
    if (plane) {
      log('stopping the control plane');
      await plane.stop();
    }
  }

  const summary: Summary = { contenders: {} };
  for (const contender of opts.contenders) {
    const mine = runs.filter((r) => r.contender === contender);
    if (mine.length) summary.contenders[contender] = summarizeContender(mine);
  }
  if (overhead) summary.overhead = summarizeOverhead(overhead);
  if (cache) summary.cache = summarizeCache(cache);
  const durationS = (performance.now() - began) / 1000;
  const input = { machine, date, options: { n: opts.n, rounds: opts.rounds, concurrency: opts.concurrency, cacheObjects: opts.cacheObjects }, durationS, summary, runs };
  const json = `${JSON.stringify({ ...input, targets: targets(summary), overhead, cache }, null, 2)}\n`;
  if (opts.save) writeFileSync(opts.save, json);
  if (opts.json) {
    process.stdout.write(json);
  } else {
    process.stdout.write(`${markdown(input)}\n`);
  }
  log(`done in ${(durationS / 60).toFixed(1)} min`);
  if (runs.some((r) => r.error)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  killChildren();
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
