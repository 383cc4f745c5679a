// Waiting on conditions with deadlines: the only synchronisation integration tests use.

/**
 * Polls `probe` until it returns a value other than `undefined`/`false` (or stops
 * throwing), and returns that value; fails with the last problem at the deadline.
 *
 * @example
 * ```ts
 * const cm = await eventually(() => client.get(V1ConfigMap, key), { timeoutMs: 20_000 });
 * ```
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown = 'condition not met';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : String(last);
      throw new Error(`${options.message ?? 'condition'} not met within ${options.timeoutMs ?? 30_000} ms (last: ${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/** Parses Prometheus text exposition into `name{labels}` → value. */
export function parseMetrics(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^(\S+?)(\{.*\})?\s+(\S+)$/.exec(line);
    if (match) result.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return result;
}

/** Sums every series of `name` whose labels include all of `labels`. */
export function metricValue(metrics: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of metrics) {
    const match = /^([^{]+)(\{.*\})?$/.exec(key);
    if (!match || match[1] !== name) continue;
    const text = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => text.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

/** Scrapes an operator's /metrics endpoint. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(`${url}/metrics`);
  return parseMetrics(await response.text());
}
