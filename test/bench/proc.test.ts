import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { eventually } from '../../lib/testing/index.js';
import { findProcess, parseMachineStat, parseStat, parseStatus, readMachine, readProc } from '../../bench/proc.js';
import { cpuBetween, planeIdle } from '../../bench/convergence.js';

describe('bench /proc readings', () => {
  it('takes utime and stime from /proc/<pid>/stat, counting fields after the command name', () => {
    // A command name with spaces and parentheses must not shift the fields.
    const line = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 15921 0 0 0 1234 567 0 0 20 0 11 0 7391 1118146560 40413 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0';
    expect(parseStat(line)).to.deep.equal({ utimeTicks: 1234, stimeTicks: 567 });
  });

  it('rejects a line that is not a stat line', () => {
    expect(() => parseStat('hello')).to.throw(/not a \/proc/);
    expect(() => parseStat('1 (x) S 1 2')).to.throw(/no utime\/stime/);
  });

  it('reads VmRSS and VmHWM from /proc/<pid>/status, in bytes', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  331520 kB\nVmRSS:\t  298000 kB\nThreads:\t11\n';
    expect(parseStatus(status)).to.deep.equal({ rssBytes: 298000 * 1024, peakRssBytes: 331520 * 1024 });
  });

  it('leaves the figures undefined when a status has no memory (a zombie)', () => {
    expect(parseStatus('Name:\tnode\nState:\tZ (zombie)\n')).to.deep.equal({ rssBytes: undefined, peakRssBytes: undefined });
  });

  it('takes the machine\'s busy and total ticks from the cpu line of /proc/stat: idle and iowait are not busy, guest time is not counted twice', () => {
    const text = 'cpu  100 5 50 800 20 3 2 1 40 0\ncpu0 50 2 25 400 10 1 1 0 20 0\nintr 1 2 3\n';
    expect(parseMachineStat(text)).to.deep.equal({ busyTicks: 100 + 5 + 50 + 3 + 2 + 1, totalTicks: 100 + 5 + 50 + 800 + 20 + 3 + 2 + 1 });
    expect(() => parseMachineStat('cpu0 1 2 3\n')).to.throw(/no aggregate cpu line/);
    expect(() => parseMachineStat('cpu  1 2 x 4 5 6 7 8\n')).to.throw(/not a \/proc\/stat cpu line/);
  });

  it('reads the machine\'s CPU times: busy within total, both growing while a process computes', () => {
    const before = readMachine();
    const started = process.cpuUsage();
    let x = 0;
    while ((process.cpuUsage(started).user + process.cpuUsage(started).system) < 100_000) x++;
    const after = readMachine();
    expect(x).to.be.greaterThan(0);
    expect(after.busyTicks).to.be.at.most(after.totalTicks);
    // 100 ms of this process's CPU is at least ~10 ticks of busy time at 100 Hz (a tick of slack).
    expect(after.busyTicks - before.busyTicks).to.be.at.least(9);
    expect(after.totalTicks).to.be.greaterThan(before.totalTicks);
  });

  it('gives the CPU between two readings and the machine\'s busy share; nothing when the contender could not be read, no busy share when the machine could not', () => {
    const from = { operatorS: 1, plane: { apiServer: 10, etcd: 2 }, machine: { busyTicks: 1000, totalTicks: 2000 } };
    const to = { operatorS: 3.5, plane: { apiServer: 19, etcd: 4.5 }, machine: { busyTicks: 2470, totalTicks: 3500 } };
    expect(cpuBetween(from, to)).to.deep.equal({ operatorCpuS: 2.5, apiServerCpuS: 9, etcdCpuS: 2.5, machineBusy: 0.98 });
    expect(cpuBetween({ ...from, plane: undefined }, to), 'no control plane: no figure for it').to.deep.equal({ operatorCpuS: 2.5, machineBusy: 0.98 });
    expect(cpuBetween({ ...from, operatorS: undefined }, to)).to.equal(undefined);
    expect(cpuBetween(from, { ...to, machine: undefined }), 'no /proc/stat: no busy share, the rest kept').to.deep.equal({ operatorCpuS: 2.5, apiServerCpuS: 9, etcdCpuS: 2.5 });
    expect(cpuBetween(from, { ...to, machine: from.machine }), 'no time passed: no busy share').to.deep.equal({ operatorCpuS: 2.5, apiServerCpuS: 9, etcdCpuS: 2.5 });
  });

  it('reads a live process from outside: its CPU grows while it computes, its peak RSS covers its RSS', async () => {
    // A child that burns 300 ms of CPU (its own CPU time, so a loaded machine only makes it
    // take longer) and allocates 64 MiB, then waits to be killed.
    const child = spawn(process.execPath, ['-e', `
      const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
      let x = 0; while (cpu() < 300) x++;
      globalThis.keep = Buffer.alloc(64 * 1024 * 1024, 1);
      process.stdout.write('done\\n'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const sample = readProc(child.pid!);
      expect(sample.cpuS).to.be.greaterThan(0.1);
      expect(sample.rssBytes).to.be.greaterThan(64 * 1024 * 1024);
      expect(sample.peakRssBytes).to.be.at.least(sample.rssBytes);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('finds a process by its command name and an argument, and only that one', async () => {
    // Two children with the same name, told apart by an argument (as two control planes by their directories).
    const marker = `/tmp/bench-proc-test-${process.pid}`;
    const child = (suffix: string) => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', `${marker}-${suffix}`], { stdio: 'ignore' });
    const [a, b] = [child('a'), child('b')];
    try {
      const comm = readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim();
      // Until a child has exec'd, its command line is this process's.
      await eventually(() => findProcess(comm, `${marker}-a`) === a.pid && findProcess(comm, `${marker}-b`) === b.pid, { message: 'both found by their argument' });
      expect(findProcess(comm, `${marker}-c`)).to.equal(undefined);
      expect(findProcess('no-such-command', `${marker}-a`)).to.equal(undefined);
    } finally {
      a.kill('SIGKILL');
      b.kill('SIGKILL');
    }
  });

  it('waits for an idle control plane: not while one of its processes computes, at once when both are idle, and gives up at the deadline', async () => {
    // Stand-ins for kube-apiserver and etcd: one computes until told to stop, one sleeps.
    const busy = spawn(process.execPath, ['-e', `
      let stop = false; process.stdin.on('data', () => { stop = true; });
      (function spin() { const t = Date.now(); while (!stop && Date.now() - t < 50); if (!stop) setImmediate(spin); })();
      process.stdout.write('spinning\\n'); setInterval(() => {}, 1000);`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await new Promise<void>((resolve) => busy.stdout.once('data', () => resolve()));
      const pids = { apiServerPid: busy.pid!, etcdPid: idle.pid! };
      expect(await planeIdle(pids, { windowMs: 200, maxMs: 1000 }), 'busy until the deadline').to.include({ idle: false });
      const waiting = planeIdle(pids, { windowMs: 200, maxMs: 20_000 });
      let done = false;
      void waiting.then(() => { done = true; });
      // Three windows' worth of the busy process's CPU.
      const spent = readProc(busy.pid!).cpuS;
      await eventually(() => readProc(busy.pid!).cpuS >= spent + 0.6, { message: 'the busy process computed 0.6 s' });
      expect(done, 'still waiting while the process computes').to.equal(false);
      const stoppedAt = performance.now();
      busy.stdin.write('stop\n');
      const result = await waiting;
      expect(result.idle).to.equal(true);
      expect(performance.now() - stoppedAt, 'idle soon after it stopped').to.be.below(5000);
      expect(await planeIdle(pids, { windowMs: 200 }), 'both idle: one window').to.include({ idle: true });
      expect(await planeIdle(undefined), 'no process ids: at once').to.deep.equal({ waitedMs: 0, idle: true });
    } finally {
      busy.kill('SIGKILL');
      idle.kill('SIGKILL');
    }
  });

  it('throws for a process that does not exist', () => {
    expect(() => readProc(2 ** 30)).to.throw();
  });
});
