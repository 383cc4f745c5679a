// Child processes of the harness: each contender (and each measurement process) runs on
// its own, so its RSS and CPU are its own. Every child is tracked and killed if the
// harness exits or is interrupted.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { CHANNEL_FD, type ContenderMessage, type ContenderStats, type HarnessMessage, type SelfReport } from './contender.js';
import { readProc, type ProcSample } from './proc.js';

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

/**
 * Starts a Node contender that speaks the harness protocol as JSON lines, as the native
 * contender does (see {@link spawnBinary}), but with its messages on {@link CHANNEL_FD}:
 * they are emitted as 'message' events on the child; its stdout and stderr are forwarded;
 * {@link sendTo} writes to its stdin. Not Node's IPC channel: a Node process sets that up
 * as it starts, loading `child_process` (about 10 ms of CPU, measured), which a deployed
 * operator does not spend and the native contender did not.
 */
export function spawnNodeContender(options: SpawnOptions): ChildProcess {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), options.module], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.stdin.on('error', () => { /* it exited; the exit is reported elsewhere */ });
  forward(child, options.label);
  emitMessages(child, child.stdio[CHANNEL_FD] as Readable, options.label);
  return child;
}

/** Emits each line of `input` that is a protocol message as a 'message' event on `child`; writes other lines to our stderr, prefixed. */
function emitMessages(child: ChildProcess, input: Readable, label: string): void {
  createInterface({ input }).on('line', (line) => {
    const message = parseMessageLine(line);
    if (message !== undefined) child.emit('message', message);
    else process.stderr.write(`  [${label}] ${line}\n`);
  });
}

/** Forks a node child with an IPC channel (a measurement process, not a contender); its output goes to our stderr, prefixed. */
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

/**
 * Starts a native contender (the controller-runtime binary) that speaks the harness
 * protocol as JSON lines: lines of its stdout that parse as a JSON object are emitted as
 * 'message' events on the child (as Node's IPC channel does), other lines and stderr are
 * forwarded; {@link sendTo} writes to its stdin.
 */
export function spawnBinary(options: { path: string; label: string; env?: Record<string, string> }): ChildProcess {
  const child = spawn(options.path, [], { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.stdin.on('error', () => { /* it exited; the exit is reported elsewhere */ });
  emitMessages(child, child.stdout, options.label);
  createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`  [${options.label}] ${line}\n`));
  return child;
}

/** A protocol message from a line of a native contender's stdout, or undefined for any other line. */
export function parseMessageLine(line: string): ContenderMessage | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(trimmed) as { type?: unknown };
    return typeof parsed.type === 'string' ? (parsed as ContenderMessage) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends a harness message over the IPC channel (a measurement process) or as a JSON line on stdin (a contender). */
export function sendTo(child: ChildProcess, message: HarnessMessage): void {
  if (child.send !== undefined && child.connected) child.send(message);
  else child.stdin?.write(`${JSON.stringify(message)}\n`);
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
    // 'close', not 'exit': the child's last messages (a `failed` before it exits) may still be in its pipes at 'exit'.
    const onExit = (code: number | null, signal: string | null) => finish(new Error(`${what}: the process exited (${code ?? signal})`));
    function finish(err: Error | undefined, value?: R) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('close', onExit);
      if (err) reject(err);
      else resolve(value as R);
    }
    child.on('message', onMessage);
    child.once('close', onExit);
  });
}

/**
 * A running contender process. Every report it sends is paired with a reading of its
 * /proc taken by the harness when the report arrives; a sampler also reads /proc every
 * 250 ms, so the last figures are known even if the process dies.
 */
export class ContenderProcess {
  readonly ready: Promise<ContenderStats>;
  readonly spawnedAt = performance.now();
  /** When the ready message arrived (performance.now()). */
  readyAt: number | undefined;
  #nextId = 1;
  #last: ProcSample | undefined;
  readonly #sampler: NodeJS.Timeout;

  constructor(readonly child: ChildProcess, readonly label: string, startTimeoutMs = 120_000) {
    this.#sampler = setInterval(() => this.#sample(), 250);
    this.#sampler.unref();
    this.#sample();
    this.ready = nextMessage<ContenderMessage, ContenderStats>(child, `${label} start`, startTimeoutMs, (m) => {
      if (m.type !== 'ready') return undefined;
      this.readyAt = performance.now();
      return this.#withProc(m.stats);
    });
    this.ready.catch(() => undefined);
  }

  /** Reads its /proc now (the last reading if it is gone, undefined if it never could be read). */
  sample(): ProcSample | undefined {
    return this.#sample();
  }

  #sample(): ProcSample | undefined {
    if (this.child.pid === undefined) return this.#last;
    try {
      this.#last = readProc(this.child.pid);
    } catch {
      // Gone: keep the last reading.
    }
    return this.#last;
  }

  #withProc(report: SelfReport): ContenderStats {
    // NaN (shown as '–') rather than a made-up figure when /proc could never be read.
    const proc = this.#sample() ?? { cpuS: NaN, rssBytes: NaN, peakRssBytes: NaN };
    return { ...report, proc };
  }

  /** Asks for the counters (after a full GC with `gc`, which then costs the contender some CPU). */
  snapshot(gc = false): Promise<ContenderStats> {
    const id = this.#nextId++;
    const answer = nextMessage<ContenderMessage, ContenderStats>(this.child, `${this.label} snapshot`, 60_000, (m) => (m.type === 'snapshot' && m.id === id ? this.#withProc(m.stats) : undefined));
    sendTo(this.child, { cmd: 'snapshot', id, ...(gc ? { gc } : {}) });
    return answer;
  }

  /**
   * Stops the operator gracefully and returns its final counters with its /proc figures
   * read after the operator stopped (CPU and peak RSS of the whole life), then lets it exit.
   */
  async stop(): Promise<ContenderStats> {
    const answer = nextMessage<ContenderMessage, ContenderStats>(this.child, `${this.label} stop`, 60_000, (m) => (m.type === 'final' ? this.#withProc(m.stats) : undefined));
    sendTo(this.child, { cmd: 'stop' });
    try {
      const stats = await answer;
      sendTo(this.child, { cmd: 'exit' });
      await Promise.race([exited(this.child), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      return stats;
    } finally {
      this.kill();
    }
  }

  kill(): void {
    clearInterval(this.#sampler);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
