import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readSync, fstatSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { shellQuote, type ControlPlaneComponent } from './errors.js';

/**
 * Runs one component and ties its life to the Node process that spawned it, even when
 * that process is SIGKILLed and cannot clean up: the wrapper's stdin is a pipe whose only
 * writer is Node, so EOF on it means Node is gone. The wrapper then stops the component
 * (TERM, KILL after 3 s: its data is thrown away anyway) and removes the plane's folder.
 * A normal stop is a SIGTERM to the process group, which the wrapper forwards and then
 * waits out; the wrapper reaps its children, so no zombie lingers in the group.
 *
 * $1: log file, $2: folder to remove when orphaned, the rest: the command.
 */
const wrapper = `
log=$1 dir=$2; shift 2
exec >>"$log" 2>&1 3<&0 </dev/null
"$@" 3<&- &
child=$!
(
  while read -r _ <&3; do :; done
  : >"$dir/.orphaned"
  kill -TERM "$child" 2>/dev/null
  i=0
  while kill -0 "$child" 2>/dev/null && [ "$i" -lt 30 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL "$child" 2>/dev/null
) &
watcher=$!
exec 3<&-
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
while :; do
  wait "$child"; code=$?
  kill -0 "$child" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
[ -e "$dir/.orphaned" ] && rm -rf "$dir"
exit "$code"
`;

const runMarker = '--- maestro: starting at';

/** Process groups and folders alive in this Node process, for the exit and signal hooks. */
const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const pgid of liveGroups) {
    try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
  }
  liveGroups.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  process.removeListener(signal, onSignal);
  // Listening replaced Node's default action (exit); restore it unless someone else
  // (a test runner, the application) handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Registers a folder to be removed if this process exits without stopping its plane. */
export function trackDir(dir: string): void {
  installHooks();
  liveDirs.add(dir);
}

/** Forgets a folder once it was removed. */
export function untrackDir(dir: string): void {
  liveDirs.delete(dir);
}

/** How a component process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One control-plane process, spawned in its own process group through the wrapper
 * above, logging to a file. Can be stopped and started again with the same command.
 */
export class ComponentProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<Exit> | undefined;
  private exitValue: Exit | undefined;

  constructor(
    readonly name: ControlPlaneComponent,
    /** The binary, then its arguments. */
    readonly command: readonly string[],
    readonly logPath: string,
    /** The plane's folder, removed by the wrapper if Node dies. */
    private readonly planeDir: string,
  ) {}

  /** The process-group id (the wrapper's pid) while running. */
  get pgid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitValue === undefined;
  }

  /** Resolves when the current run ends (never rejects). */
  get exited(): Promise<Exit> {
    return this.exitPromise ?? Promise.resolve({ code: null, signal: null });
  }

  start(): void {
    if (this.running) return;
    installHooks();
    // A marker, so the tail of a restarted component's log shows only its latest run.
    appendFileSync(this.logPath, `${runMarker} ${new Date().toISOString()}: ${shellQuote(this.command)}\n`);
    const [bin, ...args] = this.command;
    const child = spawn('/bin/sh', ['-c', wrapper, `maestro-${this.name}`, this.logPath, this.planeDir, bin!, ...args], {
      detached: true, // its own process group, so stop() reaches the component too
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.child = child;
    this.exitValue = undefined;
    this.exitPromise = new Promise<Exit>((resolve) => {
      const done = (exit: Exit): void => {
        if (this.exitValue) return;
        this.exitValue = exit;
        if (child.pid !== undefined) liveGroups.delete(child.pid);
        resolve(exit);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', () => done({ code: null, signal: null }));
    });
    if (child.pid !== undefined) liveGroups.add(child.pid);
    // Neither the process nor its pipe keeps Node alive: a forgotten plane is killed by the
    // exit hook rather than hanging the test run.
    child.unref();
    const stdin = child.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null;
    stdin?.unref?.();
    child.stdin?.on('error', () => { /* EPIPE after the wrapper exits */ });
  }

  /**
   * Stops the component: SIGTERM to its group, SIGKILL if the group is still alive after
   * `graceMs`; resolves when no process of the group is left.
   */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    const pgid = child.pid;
    // Keep Node alive until the stop completes (the child is otherwise unref'd).
    child.ref();
    signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (groupAlive(pgid) && Date.now() < deadline) await delay(20);
    if (groupAlive(pgid)) {
      signalGroup(pgid, 'SIGKILL');
      const killDeadline = Date.now() + 5_000;
      while (groupAlive(pgid) && Date.now() < killDeadline) await delay(20);
    }
    // The group is empty, so the wrapper has exited; let Node observe it too.
    await Promise.race([this.exited, delay(5_000)]);
    liveGroups.delete(pgid);
  }

  /** The last `lines` lines of the component's log, from its latest run. */
  logTail(lines = 30): string {
    const tail = tailFile(this.logPath, lines + 1).split('\n');
    const marker = tail.findLastIndex((l) => l.startsWith(runMarker));
    return tail.slice(marker + 1).slice(-lines).join('\n');
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pgid, signal); } catch { /* gone */ }
}

/** Whether any process of the group exists (signal 0 probes without sending). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads the last `lines` lines of a file (at most its last 64 KiB); '' if it is missing. */
export function tailFile(path: string, lines: number): string {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return ''; }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const all = buf.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

/**
 * Picks `count` distinct free TCP ports on 127.0.0.1 by binding port 0 (all held open
 * together so they differ, then released). Another process may take one before the
 * component binds it; callers retry start-up on "address already in use".
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
