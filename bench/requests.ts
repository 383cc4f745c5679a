// The request counters of a contender process, shared between the preload that fills them
// (count-requests.ts) and the contender runtime that reports them (contender.ts).

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

/** Whether the preload is active (otherwise every count stays 0). */
export const countingActive = (): boolean => Boolean((globalThis as Record<symbol, unknown>)[Symbol.for('maestro.bench.counting')]);

/** A copy of the counters. */
export function snapshotRequests(): RequestCounters {
  return { total: counters.total, byKind: { ...counters.byKind }, byStatus: { ...counters.byStatus }, connections: { ...counters.connections } };
}
