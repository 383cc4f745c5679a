// Waiting on conditions with deadlines (the only synchronisation integration tests use),
// and reading an operator's metrics.
export { eventually } from '../../lib/testing/index.js';

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
