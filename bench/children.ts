// Child processes of the harness: each contender (and each measurement process) runs on
// its own, so its RSS and CPU are its own. Every child is tracked and killed if the
// harness exits or is interrupted.
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ContenderMessage, ContenderStats, HarnessMessage } from './contender.js';

const live = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL, by pid). */
export function killChildren(): void {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
  live.clear();
}

/** Prefixes a child's output lines and writes them to our stderr (stdout is for the result). */
function forward(child: ChildProcess, label: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => process.stderr.write(`  [${label}] ${line}\n`));
  }
}

export interface SpawnOptions {
  /** The compiled module to run. */
  module: string;
  label: string;
  execArgv?: string[];
  env?: Record<string, string>;
}

/** Forks a node child with an IPC channel; its output goes to our stderr, prefixed. */
export function spawnChild(options: SpawnOptions): ChildProcess {
  const child = fork(options.module, [], {
    execArgv: options.execArgv ?? [],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  forward(child, options.label);
  return child;
}

/** Resolves with the exit code (or signal) of a child. */
export function exited(child: ChildProcess): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(String(child.exitCode ?? child.signalCode));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(String(code ?? signal))));
}

/** Waits for the first message matching `accept`, failing when the child exits first or after `timeoutMs`. */
export function nextMessage<M, R>(child: ChildProcess, what: string, timeoutMs: number, accept: (message: M) => R | undefined): Promise<R> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: M) => {
      const failed = (message as { type?: string; error?: string }).type === 'failed' ? (message as { error?: string }).error : undefined;
      if (failed !== undefined) return finish(new Error(`${what}: ${failed}`));
      const value = accept(message);
      if (value !== undefined) finish(undefined, value);
    };
    const onExit = (code: number | null, signal: string | null) => finish(new Error(`${what}: the process exited (${code ?? signal})`));
    function finish(err: Error | undefined, value?: R) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value as R);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** A running contender process. */
export class ContenderProcess {
  readonly ready: Promise<ContenderStats>;
  #nextId = 1;

  constructor(readonly child: ChildProcess, readonly label: string) {
    this.ready = nextMessage<ContenderMessage, ContenderStats>(child, `${label} start`, 120_000, (m) => (m.type === 'ready' ? m.stats : undefined));
  }

  snapshot(): Promise<ContenderStats> {
    const id = this.#nextId++;
    const answer = nextMessage<ContenderMessage, ContenderStats>(this.child, `${this.label} snapshot`, 30_000, (m) => (m.type === 'snapshot' && m.id === id ? m.stats : undefined));
    this.child.send({ cmd: 'snapshot', id } satisfies HarnessMessage);
    return answer;
  }

  /** Stops the operator gracefully and returns its final counters (CPU and peak RSS at exit). */
  async stop(): Promise<ContenderStats> {
    const answer = nextMessage<ContenderMessage, ContenderStats>(this.child, `${this.label} stop`, 60_000, (m) => (m.type === 'final' ? m.stats : undefined));
    this.child.send({ cmd: 'stop' } satisfies HarnessMessage);
    try {
      const stats = await answer;
      await exited(this.child);
      return stats;
    } finally {
      this.kill();
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
