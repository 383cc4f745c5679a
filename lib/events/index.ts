/**
 * Kubernetes Events for what an operator does (reconcile errors, condition
 * transitions), visible with `kubectl describe` and `kubectl events`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import { ApiError } from '../client/errors.js';
import { collectionPath, objectPath, type ApiTransport } from '../client/transport.js';
import { describeError } from '../errors/index.js';
import { noopLogger, type Logger } from '../log/index.js';
import { builtInResources, type ResourceLookup } from '../resources/index.js';

/** `Normal` for expected happenings, `Warning` for problems. */
export type EventType = 'Normal' | 'Warning';

/** Records Events about objects. */
export interface EventRecorder {
  /** Records (or counts again) an event about `obj`; never throws. */
  event(obj: KubernetesObject, type: EventType, reason: string, message: string): void;
}

/** Options of a {@link KubeEventRecorder}. */
export interface EventRecorderOptions {
  transport: ApiTransport;
  /** `source.component` and `reportingComponent` of the events (the operator's name). */
  component: string;
  /** `reportingInstance` (the process identity). */
  instance?: string;
  logger?: Logger;
  /** Repeats of one event within this window update its count instead of creating a new Event (default 10 min). */
  aggregationWindowMs?: number;
  /** Resolves the kind of objects without apiVersion and kind (default: the built-in kinds). */
  resources?: ResourceLookup;
}

interface Recent {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: Date;
  lastSeen: number;
}

const RESOURCE = builtInResources.of({ apiVersion: 'v1', kind: 'Event' });
const MAX_RECENT = 4096;

/**
 * Writes core/v1 Events through the API, asynchronously and best-effort: a failure is
 * logged and never affects reconciling. Repeats of the same event (same object, type,
 * reason and message) within the aggregation window increase the existing Event's
 * `count`, as client-go's event correlator does, so a retry loop does not flood etcd.
 *
 * @example
 * ```ts
 * recorder.event(site, 'Warning', 'ReconcileError', 'image pull failed');
 * ```
 */
export class KubeEventRecorder implements EventRecorder {
  readonly #recent = new Map<string, Recent>();
  readonly #pending = new Set<Promise<void>>();
  readonly #log: Logger;

  constructor(private readonly options: EventRecorderOptions) {
    this.#log = options.logger ?? noopLogger;
  }

  event(obj: KubernetesObject, type: EventType, reason: string, message: string): void {
    const write = this.#write(obj, type, reason, message.slice(0, 1024)).catch((err: unknown) => {
      this.#log.warn({ err: describeError(err), reason }, 'could not record event');
    });
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }

  /** Resolves when the events recorded so far have been written (or failed). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  async #write(obj: KubernetesObject, type: EventType, reason: string, message: string): Promise<void> {
    const resource = (this.options.resources ?? builtInResources).tryOf(obj);
    const metadata = obj.metadata ?? {};
    const namespace = metadata.namespace ?? 'default';
    const key = `${metadata.uid ?? `${namespace}/${metadata.name}`}\n${type}\n${reason}\n${message}`;
    const now = new Date();
    const window = this.options.aggregationWindowMs ?? 600_000;
    const recent = this.#recent.get(key);
    if (recent && now.getTime() - recent.lastSeen < window) {
      recent.count++;
      recent.lastSeen = now.getTime();
      try {
        await this.options.transport.send('PATCH', objectPath(RESOURCE, recent.namespace, recent.name), {
          body: { count: recent.count, lastTimestamp: now.toISOString() },
          contentType: 'application/merge-patch+json',
        });
        return;
      } catch (err) {
        // The Event expired or was deleted: record a new one.
        if (!(err instanceof ApiError && err.statusCode === 404)) throw err;
      }
    }
    const name = `${metadata.name ?? 'object'}.${Date.now().toString(16)}${randomBytes(3).toString('hex')}`.slice(0, 253);
    const event: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion ?? resource?.apiVersion,
        kind: obj.kind ?? resource?.kind,
        name: metadata.name,
        namespace: metadata.namespace,
        uid: metadata.uid,
        resourceVersion: metadata.resourceVersion,
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.options.component },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance ?? this.options.component,
    };
    await this.options.transport.send('POST', collectionPath(RESOURCE, namespace), { body: event });
    this.#recent.delete(key);
    this.#recent.set(key, { name, namespace, count: 1, firstTimestamp: now, lastSeen: now.getTime() });
    if (this.#recent.size > MAX_RECENT) this.#recent.delete(this.#recent.keys().next().value!);
  }
}

/** A recorder that drops everything. */
export const noopEventRecorder: EventRecorder = { event() {} };
