/**
 * client-go's EventCorrelator (`tools/record/events_cache.go`), so that an operator cannot
 * flood the API server with Events: identical events are counted on one Event, similar events
 * (same object, type and reason, another message) are combined once they become many, and a
 * token bucket per source and object drops what is left of a storm.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import { API_LIMITS, truncate } from '../limits/index.js';

/** Tuning of an {@link EventCorrelator}; the defaults are client-go's. */
export interface CorrelatorOptions {
  /** Entries per cache (least recently used evicted first). Default 4096. */
  cacheSize?: number;
  /** Events a source may write about one object at once (the token bucket's size). Default 25. */
  burst?: number;
  /** Refill of that bucket, in events per second. Default 1/300 (one every 5 minutes). */
  qps?: number;
  /** Similar events (differing only in message) within the interval before they are combined. Default 10. */
  maxSimilarEvents?: number;
  /** How long similar events are remembered for combining. Default 10 minutes. */
  similarIntervalMs?: number;
  /** The clock (default Date.now). */
  now?: () => number;
}

/** What to do with an event: write it as a new Event, patch an existing one, or drop it. */
export type Correlation =
  | { action: 'create'; event: CoreV1Event }
  | { action: 'patch'; event: CoreV1Event; patch: EventPatch }
  | { action: 'skip' };

/** The fields that change when an Event is seen again. */
export interface EventPatch {
  count: number;
  lastTimestamp: string;
  message: string;
}

/** The prefix of combined events' messages (client-go's). */
export const COMBINED_PREFIX = '(combined from similar events): ';

class Lru<V> {
  readonly #map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.size) this.#map.delete(this.#map.keys().next().value!);
  }
}

const join = (...parts: Array<string | undefined>): string => parts.map((p) => p ?? '').join('\u0000');

/** Source and object: the spam filter's key. */
function spamKey(e: CoreV1Event): string {
  const o = e.involvedObject;
  return join(e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion);
}

/** Everything but the message: events that differ only in message are "similar". */
function aggregateKey(e: CoreV1Event): string {
  return join(spamKey(e), e.type, e.reason, e.reportingComponent, e.reportingInstance);
}

/** The whole event: identical events are counted on one Event. */
function eventKey(e: CoreV1Event): string {
  return join(spamKey(e), e.involvedObject.fieldPath, e.type, e.reason, e.message);
}

interface Observation {
  count: number;
  firstTimestamp: Date;
  name: string;
}

/**
 * Decides, for each event an operator records, what to write (client-go's semantics):
 * - **Counting**: an event identical to one seen before (same object, type, reason and
 *   message) patches that Event's `count` and `lastTimestamp` instead of creating another.
 * - **Combining**: once `maxSimilarEvents` (10) events about one object with the same type
 *   and reason but different messages are seen within `similarIntervalMs` (10 min), further
 *   ones are written to a single Event whose message is `(combined from similar events): `
 *   and the latest message, counted as above.
 * - **Spam filter**: each source and object has a token bucket of `burst` (25) events,
 *   refilled at `qps` (one per 5 minutes); an event finding it empty is dropped (its count
 *   still goes into the next write of the same Event).
 * Pure and synchronous: the caller writes what it returns.
 *
 * @example
 * ```ts
 * const correlator = new EventCorrelator();
 * const c = correlator.correlate(event);
 * if (c.action === 'create') await sink.create(ns, c.event);
 * else if (c.action === 'patch') await sink.patch(ns, c.event.metadata.name, c.patch);
 * ```
 */
export class EventCorrelator {
  readonly #now: () => number;
  readonly #buckets: Lru<{ tokens: number; at: number }>;
  readonly #similar: Lru<{ messages: Set<string>; last: number }>;
  readonly #observed: Lru<Observation>;

  constructor(private readonly options: CorrelatorOptions = {}) {
    const size = options.cacheSize ?? 4096;
    this.#now = options.now ?? Date.now;
    this.#buckets = new Lru(size);
    this.#similar = new Lru(size);
    this.#observed = new Lru(size);
  }

  /** Correlates `event` (with `metadata.name` set to the name a new Event would get). */
  correlate(event: CoreV1Event): Correlation {
    const now = this.#now();
    const { event: aggregated, key } = this.#aggregate(event, now);
    const observed = this.#observe(aggregated, key, now);
    if (!this.#accept(observed.event, now)) return { action: 'skip' };
    return observed;
  }

  #aggregate(event: CoreV1Event, now: number): { event: CoreV1Event; key: string } {
    const key = aggregateKey(event);
    let record = this.#similar.get(key);
    if (!record || now - record.last > (this.options.similarIntervalMs ?? 600_000)) record = { messages: new Set(), last: now };
    record.messages.add(event.message ?? '');
    record.last = now;
    this.#similar.set(key, record);
    if (record.messages.size < (this.options.maxSimilarEvents ?? 10)) return { event, key: eventKey(event) };
    // Do not let the set grow beyond the threshold.
    record.messages.delete(record.messages.values().next().value!);
    const combined: CoreV1Event = {
      ...event,
      metadata: { ...event.metadata },
      message: truncate(COMBINED_PREFIX + (event.message ?? ''), API_LIMITS.eventMessage),
    };
    return { event: combined, key };
  }

  #observe(event: CoreV1Event, key: string, now: number): Exclude<Correlation, { action: 'skip' }> {
    const last = this.#observed.get(key);
    const timestamp = new Date(now);
    if (last && last.count > 0) {
      const count = last.count + 1;
      this.#observed.set(key, { ...last, count });
      const patched: CoreV1Event = {
        ...event,
        metadata: { ...event.metadata, name: last.name },
        count,
        firstTimestamp: last.firstTimestamp,
        lastTimestamp: timestamp,
      };
      return { action: 'patch', event: patched, patch: { count, lastTimestamp: timestamp.toISOString(), message: event.message ?? '' } };
    }
    const created: CoreV1Event = { ...event, count: 1, firstTimestamp: timestamp, lastTimestamp: timestamp };
    this.#observed.set(key, { count: 1, firstTimestamp: timestamp, name: event.metadata?.name ?? '' });
    return { action: 'create', event: created };
  }

  /** The token bucket of the event's source and object (client-go's EventSourceObjectSpamFilter). */
  #accept(event: CoreV1Event, now: number): boolean {
    const burst = this.options.burst ?? 25;
    const qps = this.options.qps ?? 1 / 300;
    const key = spamKey(event);
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * qps);
    bucket.at = now;
    const accepted = bucket.tokens >= 1;
    if (accepted) bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    return accepted;
  }
}
