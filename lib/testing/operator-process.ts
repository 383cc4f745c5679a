import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { MaestroError } from '../errors/index.js';
import { WaitTimeoutError } from './errors.js';

/**
 * Options of {@link startOperatorProcess}.
 *
 * @example
 * ```ts
 * await startOperatorProcess({
 *   module: 'dist/src/main.js',                 // compiled; it calls createOperator(...).start()
 *   kubeConfig: await plane.userKubeConfig('operator', ['system:masters']),
 *   env: { LOG_LEVEL: 'debug', WATCH_NAMESPACE: ns },
 * });
 * ```
 */
export interface OperatorProcessOptions {
  /** The JavaScript module to run with Node: typically the compiled entry point that calls `createOperator(...).start()`. */
  module: string;
  /**
   * The cluster to use: a KubeConfig (written to a private temporary file, removed when
   * the process ends) or the path of a kubeconfig file. Passed as `KUBECONFIG`, which
   * `createOperator()` reads by default. Default: the environment's `KUBECONFIG`.
   */
  kubeConfig?: KubeConfig | string;
  /** Environment variables added to this process's environment; `undefined` removes one. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Arguments after the module. Default none. */
  args?: readonly string[];
  /** Node options before the module (e.g. `['--enable-source-maps']`). Default none. */
  execArgv?: readonly string[];
  /** Working directory. Default this process's. */
  cwd?: string;
  /** A name for messages. Default the module's file name. */
  name?: string;
  /** Called with every output line as it arrives (e.g. to echo logs while debugging). */
  onLine?: (line: OperatorLogLine) => void;
  /** Output lines kept; older ones are dropped. Default 200000. */
  maxLines?: number;
}

/**
 * One line the process wrote.
 *
 * @example
 * ```ts
 * proc.lines.filter((l) => l.json?.['level'] === 50).map((l) => l.json?.['msg']);
 * ```
 */
export interface OperatorLogLine {
  /** `Date.now()` when the line was received. */
  readonly at: number;
  readonly stream: 'stdout' | 'stderr';
  /** The line as written, without its newline. */
  readonly text: string;
  /** The parsed line, when it is a JSON object (pino's structured log lines are). */
  readonly json?: Readonly<Record<string, unknown>>;
}

/**
 * How an operator process ended.
 *
 * @example
 * ```ts
 * const { code, signal } = await proc.exited; // { code: 0, signal: null } after a clean SIGTERM
 * ```
 */
export interface OperatorExit {
  /** The exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, if one did. */
  readonly signal: NodeJS.Signals | null;
  /** `Date.now()` when the exit was observed. */
  readonly at: number;
}

/**
 * What a log line must match in {@link OperatorProcess.waitForLog}: a predicate on the
 * parsed JSON line, or fields it must have with these exact values (`{ msg: 'operator started' }`).
 *
 * @example
 * ```ts
 * await proc.waitForLog({ msg: 'operator started' });
 * await proc.waitForLog((line) => line['level'] === 50);
 * ```
 */
export type LogMatch = ((line: Readonly<Record<string, unknown>>) => boolean) | Readonly<Record<string, unknown>>;

/**
 * The process ended while something was awaited of it (a log line). Carries the exit and
 * the last lines of its output.
 *
 * @example
 * ```ts
 * await proc.waitForLog({ msg: 'operator started' }).catch((err) => {
 *   if (err instanceof OperatorProcessExitedError) console.error(err.exit, err.outputTail);
 * });
 * ```
 */
export class OperatorProcessExitedError extends MaestroError {
  readonly code = 'OperatorProcessExited';
  constructor(
    readonly processName: string,
    readonly exit: OperatorExit,
    /** The last lines of its output. */
    readonly outputTail: string,
    waitingFor: string,
  ) {
    super(`${processName} exited (${describeExit(exit)}) while waiting for ${waitingFor}; last output:\n${outputTail || '(none)'}`);
  }
}

/** Live children, killed if this process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHook = false;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

const guard = pathToFileURL(join(import.meta.dirname, 'orphan-guard.js')).href;

/**
 * An operator running in a child Node process: its structured (pino JSON) log lines are
 * collected, signals can be sent, its exit is awaited. For failover tests: kill an
 * operator mid-work, run two replicas on one Lease, check that a bad object does not take
 * the process down. Start it with {@link startOperatorProcess}.
 *
 * The child dies with the test process, even if that one is SIGKILLed (a preloaded guard
 * watches a pipe from the parent), so no operator outlives its test.
 *
 * @example
 * ```ts
 * const proc = await startOperatorProcess({ module: 'dist/src/main.js', kubeConfig });
 * await proc.waitForLog({ msg: 'operator started' });
 * proc.kill('SIGKILL');
 * const exit = await proc.exited;          // { code: null, signal: 'SIGKILL', at }
 * const errors = proc.logs().filter((l) => l['level'] === 50);
 * ```
 */
export class OperatorProcess {
  /** The child's process id. */
  readonly pid: number;
  /** The name used in messages. */
  readonly name: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<OperatorExit>;
  readonly #child: ChildProcess;
  readonly #lines: OperatorLogLine[] = [];
  readonly #maxLines: number;
  readonly #listeners = new Set<(line: OperatorLogLine) => void>();
  readonly #onLine: ((line: OperatorLogLine) => void) | undefined;
  #exit: OperatorExit | undefined;

  /** @internal Use {@link startOperatorProcess}. */
  constructor(child: ChildProcess, name: string, options: OperatorProcessOptions, cleanup: () => void) {
    this.#child = child;
    this.pid = child.pid!;
    this.name = name;
    this.#maxLines = options.maxLines ?? 200_000;
    this.#onLine = options.onLine;
    let outputsOpen = 2;
    let exitSeen: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let resolveExit!: (exit: OperatorExit) => void;
    this.exited = new Promise<OperatorExit>((resolve) => { resolveExit = resolve; });
    // Resolve after both the exit and the end of output, so every line is in before `exited`.
    const settle = () => {
      if (!exitSeen || outputsOpen > 0 || this.#exit) return;
      this.#exit = { ...exitSeen, at: Date.now() };
      live.delete(child);
      cleanup();
      resolveExit(this.#exit);
    };
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = child[stream];
      if (!readable) {
        outputsOpen--;
        continue;
      }
      const reader = createInterface({ input: readable, crlfDelay: Infinity });
      reader.on('line', (text) => this.#add({ at: Date.now(), stream, text, ...parseJson(text) }));
      reader.once('close', () => { outputsOpen--; settle(); });
    }
    child.once('exit', (code, signal) => {
      exitSeen = { code, signal };
      settle();
      // A grandchild may hold the pipes open; do not wait for it forever.
      const timer = setTimeout(() => { outputsOpen = 0; settle(); }, 2_000);
      timer.unref();
    });
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.#exit === undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** How it ended, once it has. */
  get exit(): OperatorExit | undefined {
    return this.#exit;
  }

  /** Every output line kept, oldest first. */
  get lines(): readonly OperatorLogLine[] {
    return this.#lines;
  }

  /** The JSON log lines (pino's), oldest first, optionally only those matching. */
  logs(match?: LogMatch): Array<Readonly<Record<string, unknown>>> {
    const result: Array<Readonly<Record<string, unknown>>> = [];
    for (const line of this.#lines) if (line.json && (!match || matches(line.json, match))) result.push(line.json);
    return result;
  }

  /**
   * Resolves with the first JSON log line that matches, looking at the lines already
   * written (from index `since`, default 0) and then at new ones.
   *
   * @throws {OperatorProcessExitedError} if the process exits first.
   * @throws {WaitTimeoutError} after `timeoutMs` (default 30000).
   */
  waitForLog(match: LogMatch, options: { timeoutMs?: number; since?: number; message?: string } = {}): Promise<Readonly<Record<string, unknown>>> {
    const waitingFor = options.message ?? (typeof match === 'function' ? 'a matching log line' : `log line ${JSON.stringify(match)}`);
    for (const line of this.#lines.slice(options.since ?? 0)) {
      if (line.json && matches(line.json, match)) return Promise.resolve(line.json);
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const finish = (action: () => void) => {
        this.#listeners.delete(listener);
        clearTimeout(timer);
        action();
      };
      const listener = (line: OperatorLogLine) => {
        if (line.json && matches(line.json, match)) finish(() => resolve(line.json!));
      };
      const timer = setTimeout(() => finish(() => reject(new WaitTimeoutError(`${this.name}: ${waitingFor}`, timeoutMs, this.tail(5)))), timeoutMs);
      this.#listeners.add(listener);
      void this.exited.then((exit) => finish(() => reject(new OperatorProcessExitedError(this.name, exit, this.tail(), waitingFor))));
    });
  }

  /**
   * Resolves with the exit once the process ended.
   *
   * @throws {WaitTimeoutError} if it is still running after `timeoutMs`.
   */
  async waitForExit(timeoutMs: number): Promise<OperatorExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WaitTimeoutError(`${this.name} to exit`, timeoutMs, this.tail(5))), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal (default SIGTERM). Returns false if the process had already exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (!this.running) return false;
    return this.#child.kill(signal);
  }

  /**
   * Stops the process: SIGTERM, then SIGKILL if it still runs after `graceMs` (default
   * 10000). Resolves with its exit. Safe to call when it has already exited.
   */
  async stop(graceMs = 10_000): Promise<OperatorExit> {
    if (!this.running) return this.exited;
    this.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const escalate = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); });
    const exit = await Promise.race([this.exited, escalate.then(() => undefined)]);
    clearTimeout(timer);
    if (exit) return exit;
    this.kill('SIGKILL');
    return this.exited;
  }

  /** The last `lines` output lines, as text (for failure messages). */
  tail(lines = 40): string {
    return this.#lines.slice(-lines).map((l) => l.text).join('\n');
  }

  #add(line: OperatorLogLine): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#maxLines) this.#lines.splice(0, this.#lines.length - this.#maxLines);
    this.#onLine?.(line);
    for (const listener of [...this.#listeners]) listener(line);
  }
}

/**
 * Starts `module` in a child Node process (this process's Node binary) with the given
 * kubeconfig and environment, and resolves once it is spawned. Its stdout and stderr are
 * collected line by line; JSON lines (pino's) are parsed.
 *
 * @throws {OperatorProcessExitedError} if the process cannot be spawned.
 * @example
 * ```ts
 * const replica = await startOperatorProcess({
 *   module: fileURLToPath(new URL('./main.js', import.meta.url)),
 *   kubeConfig: plane.kubeConfig,
 *   env: { LOG_LEVEL: 'debug' },
 * });
 * after(() => replica.stop());
 * await replica.waitForLog({ msg: 'operator started' });
 * ```
 */
export async function startOperatorProcess(options: OperatorProcessOptions): Promise<OperatorProcess> {
  installExitHook();
  const name = options.name ?? basename(options.module);
  let dir: string | undefined;
  const env: Record<string, string | undefined> = { ...process.env };
  if (options.kubeConfig !== undefined) {
    if (typeof options.kubeConfig === 'string') {
      env['KUBECONFIG'] = options.kubeConfig;
    } else {
      dir = mkdtempSync(join(tmpdir(), 'maestro-operator-process-'));
      const file = join(dir, 'kubeconfig');
      writeFileSync(file, `${options.kubeConfig.exportConfig()}\n`, { mode: 0o600 });
      env['KUBECONFIG'] = file;
    }
  }
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  env['MAESTRO_ORPHAN_GUARD_FD'] = '3';
  const cleanup = () => { if (dir) rmSync(dir, { recursive: true, force: true }); };
  const child = spawn(process.execPath, [...(options.execArgv ?? []), '--import', guard, options.module, ...(options.args ?? [])], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (err) {
    cleanup();
    throw new OperatorProcessExitedError(name, { code: null, signal: null, at: Date.now() }, String(err), 'spawn');
  }
  live.add(child);
  // The guard's pipe: only this process writes to it (never), so the child sees EOF when we die.
  (child.stdio[3] as Socket | null)?.unref();
  return new OperatorProcess(child, name, options, cleanup);
}

function parseJson(text: string): { json?: Record<string, unknown> } {
  if (!text.startsWith('{')) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? { json: value as Record<string, unknown> } : {};
  } catch {
    return {};
  }
}

function matches(line: Readonly<Record<string, unknown>>, match: LogMatch): boolean {
  if (typeof match === 'function') return match(line);
  return Object.entries(match).every(([key, value]) => line[key] === value);
}

function describeExit(exit: OperatorExit): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return exit.code === null ? 'could not be spawned' : `exit code ${exit.code}`;
}
