import { randomBytes } from 'node:crypto';
import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import { collectionPath, objectPath, type ApiTransport } from '../client/transport.js';
import { describeError } from '../errors/index.js';
import { API_LIMITS, truncate } from '../limits/index.js';
import { noopLogger, type Logger } from '../log/index.js';
import { builtInResources, type ResourceLookup } from '../resources/index.js';
import { EventCorrelator, type CorrelatorOptions, type EventPatch } from './correlator.js';

/** `Normal` for expected happenings, `Warning` for problems. */
export type EventType = 'Normal' | 'Warning';

/** Records Events about objects. */
export interface EventRecorder {
  /** Records (or counts again) an event about `obj`; never throws. */
  event(obj: KubernetesObject, type: EventType, reason: string, message: string): void;
}

/**
 * Where Events are written (client-go's EventSink): create one, or patch the count of one.
 * A rejection should carry the HTTP status as `statusCode` or `code`: a patch answered 404
 * (the Event expired) is followed by a create.
 */
export interface EventSink {
  create(namespace: string, event: CoreV1Event): Promise<unknown>;
  patch(namespace: string, name: string, patch: EventPatch): Promise<unknown>;
}

const RESOURCE = builtInResources.of({ apiVersion: 'v1', kind: 'Event' });

/** An {@link EventSink} over an {@link ApiTransport} (JSON merge patch for counts). */
export function transportEventSink(transport: ApiTransport): EventSink {
  return {
    create: (namespace, event) => transport.send('POST', collectionPath(RESOURCE, namespace), { body: event }),
    patch: (namespace, name, patch) => transport.send('PATCH', objectPath(RESOURCE, namespace, name), {
      body: patch, contentType: 'application/merge-patch+json',
    }),
  };
}

/** Options of a {@link KubeEventRecorder}. */
export interface EventRecorderOptions {
  /** Where Events go; or give `transport`. */
  sink?: EventSink;
  /** The API transport to write Events with (used when no `sink` is given). */
  transport?: ApiTransport;
  /** `source.component` and `reportingComponent` of the events (the operator's name). */
  component: string;
  /** `reportingInstance` (the process identity). */
  instance?: string;
  logger?: Logger;
  /** Counting, combining and spam filtering (client-go's defaults). */
  correlator?: CorrelatorOptions;
  /** Writes waiting at most; further events are dropped (default 1000, as client-go's broadcaster queue). */
  maxPending?: number;
  /** Resolves the kind of objects without apiVersion and kind (default: the built-in kinds). */
  resources?: ResourceLookup;
}

const statusOf = (err: unknown): number | undefined => {
  const e = err as { statusCode?: unknown; code?: unknown } | undefined;
  return typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : undefined;
};

/** A valid, unique Event name for an object: `<object name>.<time><random>` within 253 characters. */
function eventName(objectName: string | undefined): string {
  const suffix = `${Date.now().toString(16)}${randomBytes(3).toString('hex')}`;
  const prefix = (objectName || 'object').slice(0, 253 - suffix.length - 1).replace(/[.-]+$/, '');
  return `${prefix || 'object'}.${suffix}`;
}

/**
 * Writes core/v1 Events through the API, asynchronously and best-effort: a failure is
 * logged and never affects reconciling. An {@link EventCorrelator} decides what reaches the
 * API server, as client-go's recorder: repeats of an event increase its `count`; many
 * similar events about one object (same type and reason, changing message: a retry loop
 * with a changing error) are combined into one Event; and each object gets at most 25
 * Events at once, then one every 5 minutes. Reasons are cut to 128 bytes and messages to
 * 1 KiB, the API's limits. Writes to one Event are ordered; at most `maxPending` wait.
 *
 * @example
 * ```ts
 * const recorder = new KubeEventRecorder({ transport, component: 'static-site-operator' });
 * recorder.event(site, 'Warning', 'ReconcileError', 'image pull failed');
 * await recorder.flush();
 * ```
 */
export class KubeEventRecorder implements EventRecorder {
  readonly #sink: EventSink;
  readonly #correlator: EventCorrelator;
  readonly #log: Logger;
  /** The last write of each Event name: writes to one Event run in order. */
  readonly #chains = new Map<string, Promise<void>>();
  #pending = 0;
  #dropped = 0;

  constructor(private readonly options: EventRecorderOptions) {
    const sink = options.sink ?? (options.transport ? transportEventSink(options.transport) : undefined);
    if (!sink) throw new TypeError('KubeEventRecorder needs a sink or a transport');
    this.#sink = sink;
    this.#correlator = new EventCorrelator(options.correlator);
    this.#log = options.logger ?? noopLogger;
  }

  event(obj: KubernetesObject, type: EventType, reason: string, message: string): void {
    try {
      this.#record(obj, type, reason, message);
    } catch (err) {
      // A malformed object must not break the caller: events are best-effort.
      this.#log.warn({ err: describeError(err), reason }, 'could not record event');
    }
  }

  /** Resolves when the events recorded so far have been written (or failed). */
  async flush(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }

  #record(obj: KubernetesObject, type: EventType, reason: string, message: string): void {
    const resource = (this.options.resources ?? builtInResources).tryOf(obj);
    const metadata = obj.metadata ?? {};
    // Cluster-scoped objects' Events go to `default`, as client-go does.
    const namespace = metadata.namespace || 'default';
    const correlation = this.#correlator.correlate({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(metadata.name), namespace },
      involvedObject: {
        apiVersion: obj.apiVersion ?? resource?.apiVersion,
        kind: obj.kind ?? resource?.kind,
        name: metadata.name,
        namespace: metadata.namespace,
        uid: metadata.uid,
        resourceVersion: metadata.resourceVersion,
      },
      type,
      reason: truncate(reason, API_LIMITS.eventReason, ''),
      message: truncate(message, API_LIMITS.eventMessage),
      source: { component: this.options.component },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance ?? this.options.component,
    });
    if (correlation.action === 'skip') {
      this.#log.debug({ reason, object: metadata.name }, 'event dropped by the spam filter');
      return;
    }
    if (this.#pending >= (this.options.maxPending ?? 1000)) {
      if (this.#dropped++ % 100 === 0) this.#log.warn({ dropped: this.#dropped }, 'too many events waiting to be written; dropping');
      return;
    }
    const event = correlation.event;
    const name = event.metadata.name!;
    const write = async (): Promise<void> => {
      if (correlation.action === 'patch') {
        try {
          await this.#sink.patch(namespace, name, correlation.patch);
          return;
        } catch (err) {
          // The Event expired (the API server keeps them an hour) or was deleted: create it again.
          if (statusOf(err) !== 404) throw err;
        }
      }
      await this.#sink.create(namespace, { ...event, metadata: { name, namespace } });
    };
    this.#pending++;
    const previous = this.#chains.get(name) ?? Promise.resolve();
    const chained = previous.then(write).catch((err: unknown) => {
      this.#log.warn({ err: describeError(err), reason }, 'could not record event');
    }).finally(() => {
      this.#pending--;
      if (this.#chains.get(name) === chained) this.#chains.delete(name);
    });
    this.#chains.set(name, chained);
  }
}

/** A recorder that drops everything. */
export const noopEventRecorder: EventRecorder = { event() {} };
