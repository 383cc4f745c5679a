import { readdirSync, readFileSync } from 'node:fs';

/** A live process whose command line mentions some text. */
export interface ProcessInfo {
  pid: number;
  cmdline: string;
}

/** Every live process (zombies excluded) whose command line contains `text`, read from /proc. */
export function processesMentioning(text: string): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      // A zombie has an empty cmdline: it is dead, only not yet reaped.
      if (cmdline.includes(text)) found.push({ pid: Number(entry), cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** The rejection of `promise`, or a failure if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
