// The request counters of a contender process, shared between the preload that fills them
// (count-requests.cts) and the contender runtime that reports them (contender.ts).

/** What a request was, from its method and target. */
export type RequestKind = 'watch' | 'list' | 'get' | 'patch' | 'patchStatus' | 'post' | 'put' | 'delete' | 'other';

/** Requests sent so far by this process. */
export interface RequestCounters {
  total: number;
  byKind: Partial<Record<RequestKind, number>>;
  /** Responses by status (`2xx`, `409`, ...); watches count when their headers arrive. */
  byStatus: Record<string, number>;
  /**
   * New connections: `net` counts every TCP connection (net.client.socket, published for
   * Node's http/https and for undici's connector alike); `undici` those undici made.
   */
  connections: { net: number; undici: number };
}

const KEY = Symbol.for('maestro.bench.requests');
const holder = globalThis as unknown as Record<symbol, RequestCounters | undefined>;

/** The process-wide counters (one object, whichever module instance asks first). */
export const counters: RequestCounters = (holder[KEY] ??= { total: 0, byKind: {}, byStatus: {}, connections: { net: 0, undici: 0 } });

const LAST = Symbol.for('maestro.bench.lastRequest');
const last = globalThis as unknown as Record<symbol, number | undefined>;

/** Records that a request was sent now. */
export function markRequest(): void {
  last[LAST] = performance.now();
}

/** When (performance.now(), ms since the process started) the last request was sent; 0 before any. */
export const lastRequestMs = (): number => last[LAST] ?? 0;

/** Whether the preload is active (otherwise every count stays 0). */
export const countingActive = (): boolean => Boolean((globalThis as Record<symbol, unknown>)[Symbol.for('maestro.bench.counting')]);

/** A copy of the counters. */
export function snapshotRequests(): RequestCounters {
  return { total: counters.total, byKind: { ...counters.byKind }, byStatus: { ...counters.byStatus }, connections: { ...counters.connections } };
}

/** What a request is, from its method and target (path and query). */
export function classify(method: string, target: string): RequestKind {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  if (/(^|&)watch=(true|1)(&|$)/.test(query)) return 'watch';
  const m = method.toUpperCase();
  if (m === 'GET') return isCollection(path) ? 'list' : 'get';
  if (m === 'PATCH' && path.endsWith('/status')) return 'patchStatus';
  if (m === 'PATCH') return 'patch';
  if (m === 'POST') return 'post';
  if (m === 'PUT') return 'put';
  if (m === 'DELETE') return 'delete';
  return 'other';
}

/** `/api/v1/namespaces/x/configmaps` and `/apis/g/v/sites` are collections; one more segment is an object. */
export function isCollection(path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  let rest: string[];
  if (parts[0] === 'api') rest = parts.slice(2);
  else if (parts[0] === 'apis') rest = parts.slice(3);
  else return false;
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  return rest.length === 1;
}
