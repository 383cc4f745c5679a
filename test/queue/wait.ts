// Condition-based waiting for queue tests: no fixed sleeps, only "until this holds".

/** Yields to the event loop once (timers, I/O and all pending promise callbacks run). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits until `condition()` holds, checking once per event-loop turn; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

const PENDING = Symbol('pending');

/** True if `promise` has not settled after every already-queued callback has run. */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  const winner = await Promise.race([promise, tick().then(() => PENDING)]);
  return winner === PENDING;
}
