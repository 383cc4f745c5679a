import { performance } from 'node:perf_hooks';

/** Where progress goes: a terminal (one line redrawn in place) or a line sink (logs, CI). */
export type ProgressSink = { tty: NodeJS.WriteStream } | { lines: (line: string) => void };

/** The sink for `log` when given, else stderr (redrawn in place when it is a terminal). */
export function progressSink(log?: (line: string) => void): ProgressSink {
  if (log) return { lines: log };
  if (process.stderr.isTTY && process.env['CI'] === undefined) return { tty: process.stderr };
  return { lines: (line) => process.stderr.write(`${line}\n`) };
}

/** `1:05` style elapsed time. */
export function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * One status line for a long task: the phase, the elapsed time and what is happening now
 * (`2:31 compiling kube-apiserver, kube-scheduler: 1,204/2,310 packages (k8s.io/api/core/v1)`).
 * On a terminal the line is redrawn in place a few times a second; on a line sink a line is
 * written when the phase changes and then every `intervalMs`, so logs stay short.
 */
export class Progress {
  private readonly started = performance.now();
  private phase = '';
  private detail = '';
  private lastPrinted = 0;
  private lastPhasePrinted = '';
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly prefix = '[maestro] ',
    private readonly intervalMs = 20_000,
  ) {
    if ('tty' in sink) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  /** Milliseconds since the task began. */
  get elapsedMs(): number {
    return performance.now() - this.started;
  }

  /** Enters a phase (printed at once). */
  setPhase(phase: string, detail = ''): void {
    this.phase = phase;
    this.detail = detail;
    this.emit(true);
  }

  /** Updates what is happening within the phase (printed when due). */
  setDetail(detail: string): void {
    this.detail = detail;
    this.emit(false);
  }

  /** A line that stays (a finished step, a warning), above the status line. */
  note(line: string): void {
    if ('tty' in this.sink) {
      this.clear();
      this.sink.tty.write(`${this.prefix}${line}\n`);
      this.draw();
    } else {
      this.sink.lines(`${this.prefix}${line}`);
    }
  }

  /** Stops redrawing and removes the status line. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private text(): string {
    return `${this.prefix}${elapsed(this.elapsedMs)} ${this.phase}${this.detail ? `: ${this.detail}` : ''}`;
  }

  private emit(phaseChanged: boolean): void {
    if ('tty' in this.sink) return; // the timer draws
    const now = performance.now();
    if ((phaseChanged && this.phase !== this.lastPhasePrinted) || now - this.lastPrinted >= this.intervalMs) {
      this.lastPrinted = now;
      this.lastPhasePrinted = this.phase;
      this.sink.lines(this.text());
    }
  }

  private draw(): void {
    if (!('tty' in this.sink) || !this.timer) return;
    const columns = this.sink.tty.columns || 100;
    const text = this.text();
    this.sink.tty.write(`\r\x1b[K${text.length > columns - 1 ? `${text.slice(0, columns - 2)}…` : text}`);
    this.drawn = true;
  }

  private clear(): void {
    if ('tty' in this.sink && this.drawn) {
      this.sink.tty.write('\r\x1b[K');
      this.drawn = false;
    }
  }
}
