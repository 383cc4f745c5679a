// CPU and memory of a contender, read from outside the process (/proc/<pid>), the same
// way for every contender whatever its language: utime + stime from /proc/<pid>/stat,
// VmRSS and VmHWM (the kernel's peak RSS) from /proc/<pid>/status.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** One reading of a process. */
export interface ProcSample {
  /** utime + stime, seconds. */
  cpuS: number;
  /** VmRSS, bytes. */
  rssBytes: number;
  /** VmHWM (peak RSS since the process started), bytes. */
  peakRssBytes: number;
}

/** The fields of /proc/<pid>/stat the bench uses, in clock ticks. */
export interface StatTimes {
  utimeTicks: number;
  stimeTicks: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself
 * contain spaces and parentheses, so the fields are counted from the last ')'.
 */
export function parseStat(text: string): StatTimes {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: '${text.slice(0, 80)}'`);
  // After ')': field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const utimeTicks = Number(fields[11]);
  const stimeTicks = Number(fields[12]);
  if (!Number.isInteger(utimeTicks) || !Number.isInteger(stimeTicks)) throw new Error(`no utime/stime in '${text.slice(0, 200)}'`);
  return { utimeTicks, stimeTicks };
}

/** Parses the memory lines of /proc/<pid>/status (values in kB there), in bytes; absent lines are undefined. */
export function parseStatus(text: string): { rssBytes?: number; peakRssBytes?: number } {
  const kb = (key: string): number | undefined => {
    const match = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

let clockTicks: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`, 100 on Linux almost always). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const parsed = Number(result.stdout?.trim());
    clockTicks = Number.isInteger(parsed) && parsed > 0 ? parsed : 100;
  }
  return clockTicks;
}

/** Reads /proc/<pid> now; throws when the process is gone (or is a zombie without memory). */
export function readProc(pid: number): ProcSample {
  const times = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const memory = parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (memory.rssBytes === undefined || memory.peakRssBytes === undefined) throw new Error(`process ${pid} has no memory figures (exited?)`);
  return { cpuS: (times.utimeTicks + times.stimeTicks) / clockTicksPerSecond(), rssBytes: memory.rssBytes, peakRssBytes: memory.peakRssBytes };
}

/** The machine's CPU time so far, from the first line of /proc/stat, in clock ticks summed over its CPUs. */
export interface MachineTimes {
  /** Every state but idle and iowait (user, nice, system, irq, softirq, steal). */
  busyTicks: number;
  /** All states (guest time is already inside user and nice, so it is not added again). */
  totalTicks: number;
}

/** Parses the aggregate `cpu` line of /proc/stat. */
export function parseMachineStat(text: string): MachineTimes {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error(`no aggregate cpu line in /proc/stat: '${text.slice(0, 80)}'`);
  // user nice system idle iowait irq softirq steal [guest guest_nice]
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 8 || ticks.some((t) => !Number.isInteger(t))) throw new Error(`not a /proc/stat cpu line: '${line.slice(0, 120)}'`);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busyTicks: total - ticks[3]! - ticks[4]!, totalTicks: total };
}

/** Reads the machine's CPU times now (see {@link parseMachineStat}). */
export function readMachine(): MachineTimes {
  return parseMachineStat(readFileSync('/proc/stat', 'utf8'));
}

/** Whether this machine has /proc (the bench needs it). */
export function hasProc(): boolean {
  try {
    readProc(process.pid);
    return true;
  } catch {
    return false;
  }
}

/**
 * The pid of the process named `comm` (as in /proc/<pid>/comm) whose command line
 * contains `argument`: here, a control-plane component of this run, told apart from any
 * other on the machine by the run's directory in its flags.
 */
export function findProcess(comm: string, argument: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== comm) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(argument))) return Number(entry);
    } catch {
      // Gone while listed.
    }
  }
  return undefined;
}
