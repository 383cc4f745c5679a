/**
 * A controller's event sources (controller-runtime's `pkg/source` + `pkg/handler`): which
 * events of the parent kind, of owned children and of related kinds enqueue which parents.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { InformerHandler, ObjectSource } from '../cache/index.js';
import type { Client, ControllerClient } from '../client/client.js';
import type { ParentSpec, WatchSpec } from '../declare/specs.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { MapErrorReason, WatchEventResult, WatchMetrics } from '../metrics/index.js';
import type { ResourceInfo, ResourceLookup } from '../resources/index.js';
import type { MapContext } from '../watch/handlers.js';
import { allows, type Predicate, type WatchEvent } from '../watch/predicates.js';
import type { Finalizers } from './finalizers.js';
import { parentChanged } from './predicates.js';

/** The queue key of an object: `namespace/name`, or `name` for cluster-scoped kinds. */
export const queueKey = (namespace: string | undefined, name: string): string => (namespace ? `${namespace}/${name}` : name);

/** What {@link subscribe} wires. */
export interface SourcesOptions {
  spec: ParentSpec;
  /** Where objects are read and changes announced (the cache). */
  source: ObjectSource;
  /** Recognises the echo of the operator's own applies; serves map functions' reads. */
  client: ControllerClient & Client;
  /** Resolves classes for map functions (`MapContext.resourceOf`). */
  resources: ResourceLookup;
  /** The parent's finalizers, whose adding by the runtime is no reason to reconcile. */
  finalizers: Finalizers | readonly string[];
  metrics: WatchMetrics;
  logger: Logger;
  /** The signal of the current term, or `undefined` outside a term (events are then dropped: every term begins with every parent). */
  active(): AbortSignal | undefined;
  /** Adds a parent key to the current term's queue. */
  enqueue(key: string): void;
  /**
   * Told of every deletion of a parent a watch delivered within a term (not of those a
   * re-list found); answers whether it left a cleanup to run (the parent is then enqueued
   * whatever its predicates say).
   */
  deleted?(obj: KubernetesObject): boolean;
}

const resourceLabel = (resource: ResourceInfo) => `${resource.plural}.${resource.group || 'core'}`;
const groupOf = (apiVersion: string | undefined) => (apiVersion?.includes('/') ? apiVersion.split('/')[0]! : '');
const LOG_EVERY_MS = 10_000;

/** Logs failures of user code at most every 10 s per source (it may fail on every event), counting what it did not log. */
function throttledWarn(log: Logger): (fields: Record<string, unknown>, message: string) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (fields, message) => {
    const now = performance.now();
    if (now - last < LOG_EVERY_MS) {
      suppressed++;
      return;
    }
    last = now;
    log.warn({ ...fields, suppressedSinceLast: suppressed }, message);
    suppressed = 0;
  };
}

/**
 * Whether every predicate lets `event` pass. A predicate that throws is logged and counted
 * as an error, and lets the event pass: reconciling once more is safer than missing a change.
 */
function passes(predicates: readonly Predicate[], event: WatchEvent, onError: (err: unknown) => void): boolean {
  for (const predicate of predicates) {
    try {
      if (!allows(predicate, event)) return false;
    } catch (err) {
      onError(err);
    }
  }
  return true;
}

/**
 * Subscribes a controller to its event sources (call once, before the cache starts):
 *
 * - the parent kind: creations, deletions, and updates of the spec (generation), labels,
 *   annotations, finalizers or deletion (not status-only writes), that also pass the
 *   `@Parent` predicates; and, whatever the predicates say, a deletion that left a cleanup
 *   to run (`deleted`);
 * - owned kinds (`@Owns`): any change of a child reconciles its controller owner, except
 *   the echo of the operator's own apply; an apply that moved a child to another owner
 *   tells the former owner too;
 * - related kinds (`@Watches`): events that pass the predicates are mapped by the map
 *   function, on updates both the old and the new object. A map that throws, rejects or
 *   returns anything but an array of keys is logged (at most every 10 s per source) and
 *   counted in `maestro_watch_map_errors_total`, and the event enqueues what the valid keys
 *   name, if any.
 *
 * Every event is counted in `maestro_watch_events_total{result}`.
 */
export function subscribe(options: SourcesOptions): void {
  const { spec, source, metrics } = options;
  const parent = spec.resource;
  const parentLabel = resourceLabel(parent);
  const log = options.logger;
  const warnParent = throttledWarn(log);
  const predicateError = (resource: string, warn: (f: Record<string, unknown>, m: string) => void) => (err: unknown) => {
    metrics.event(resource, 'error');
    warn({ err: describeError(err), resource }, 'an event predicate threw; the event passes');
  };

  const enqueueParent = (obj: KubernetesObject, result: WatchEventResult = 'enqueued') => {
    options.enqueue(queueKey(obj.metadata?.namespace, obj.metadata?.name ?? ''));
    metrics.event(parentLabel, result);
  };
  const onParentError = predicateError(parentLabel, warnParent);
  const parentPasses = (event: WatchEvent) => {
    if (!options.active()) return false;
    if (passes(spec.predicates, event, onParentError)) return true;
    metrics.event(parentLabel, 'filtered');
    return false;
  };
  source.addHandler(parent, {
    onAdd: (obj) => { if (parentPasses({ type: 'create', obj })) enqueueParent(obj); },
    onUpdate: (oldObj, newObj) => {
      if (!options.active()) return;
      if (!parentChanged(oldObj, newObj, options.finalizers)) {
        metrics.event(parentLabel, 'filtered');
        return;
      }
      if (parentPasses({ type: 'update', oldObj, newObj })) enqueueParent(newObj);
    },
    onDelete: (obj, finalStateUnknown) => {
      if (!finalStateUnknown && options.active() && options.deleted?.(obj)) enqueueParent(obj);
      else if (parentPasses({ type: 'delete', obj })) enqueueParent(obj);
    },
  });

  for (const watch of spec.watches) {
    const handler = watch.mapping === 'owner' ? ownerHandler(options, watch) : mapHandler(options, watch);
    source.addHandler(watch.resource, handler);
  }
}

/** Children (`@Owns`) to their controller owner. */
function ownerHandler(options: SourcesOptions, watch: WatchSpec): InformerHandler<KubernetesObject> {
  const { client, metrics, spec } = options;
  const parent = spec.resource;
  const label = resourceLabel(watch.resource);
  const onPredicateError = (err: unknown) => {
    metrics.event(label, 'error');
    warn({ err: describeError(err), resource: label }, 'an event predicate threw; the event passes');
  };
  const warn = throttledWarn(options.logger.child({ watch: label }));
  /** Enqueues the parent named by `child`'s controller owner reference; whether it did. */
  const enqueueOwner = (child: KubernetesObject): boolean => {
    let found = false;
    for (const ref of child.metadata?.ownerReferences ?? []) {
      if (!ref.controller || ref.kind !== parent.kind || groupOf(ref.apiVersion) !== parent.group) continue;
      options.enqueue(queueKey(parent.namespaced ? child.metadata?.namespace : undefined, ref.name));
      found = true;
    }
    return found;
  };
  const count = (found: boolean) => metrics.event(label, found ? 'enqueued' : 'unmapped');
  // The echo of our own apply (same resourceVersion as the apply returned) changes
  // nothing the reconcile that applied it does not know: skip it, or every apply would
  // reconcile its parent once more (and race that parent's status update in the cache).
  const unlessOwnApply = (child: KubernetesObject, then: () => void) => {
    const own = client.isOwnApply(child);
    if (own === false) then();
    else if (own !== true) void own.then((yes) => { if (!yes) then(); }, () => then());
    else metrics.event(label, 'filtered');
  };
  const passing = (event: WatchEvent) => {
    if (!options.active()) return false;
    if (passes(watch.predicates, event, onPredicateError)) return true;
    metrics.event(label, 'filtered');
    return false;
  };
  const controllerUid = (obj: KubernetesObject) => obj.metadata?.ownerReferences?.find((r) => r.controller)?.uid;
  return {
    onAdd: (child) => { if (passing({ type: 'create', obj: child })) unlessOwnApply(child, () => count(enqueueOwner(child))); },
    onUpdate: (oldObj, newObj) => {
      if (!passing({ type: 'update', oldObj, newObj })) return;
      // An apply that took the child over from another parent still tells that parent.
      if (controllerUid(oldObj) !== controllerUid(newObj)) enqueueOwner(oldObj);
      unlessOwnApply(newObj, () => count([enqueueOwner(oldObj), enqueueOwner(newObj)].some(Boolean)));
    },
    onDelete: (child) => { if (passing({ type: 'delete', obj: child })) count(enqueueOwner(child)); },
  };
}

/** Related kinds (`@Watches`) through the user's map function. */
function mapHandler(options: SourcesOptions, watch: WatchSpec): InformerHandler<KubernetesObject> {
  const { metrics, spec } = options;
  const parent = spec.resource;
  const map = watch.map!;
  const label = resourceLabel(watch.resource);
  const log = options.logger.child({ watch: label, declaredBy: watch.declaredBy });
  const warn = throttledWarn(log);
  const context = (signal: AbortSignal): MapContext => ({
    client: options.client,
    parentType: spec.type,
    parent,
    resourceOf: (type) => options.resources.of(type),
    logger: log,
    signal,
  });
  const failed = (reason: MapErrorReason, obj: KubernetesObject, detail: string) => {
    metrics.mapError(label, reason);
    warn({ reason, name: obj.metadata?.name, objectNamespace: obj.metadata?.namespace, err: detail }, 'map function failed; the event enqueues nothing it did not name validly');
  };

  /** The queue keys a map result names; invalid entries are reported and skipped. */
  const keysOf = (result: unknown, obj: KubernetesObject): string[] => {
    if (!Array.isArray(result)) {
      failed('invalid_result', obj, `expected an array of { name, namespace? }, got ${result === null ? 'null' : typeof result}`);
      return [];
    }
    const keys: string[] = [];
    let invalid = 0;
    for (const item of result as unknown[]) {
      const key = item !== null && typeof item === 'object' ? item as { name?: unknown; namespace?: unknown } : undefined;
      if (!key || typeof key.name !== 'string' || key.name === '' || (key.namespace !== undefined && typeof key.namespace !== 'string')) {
        invalid++;
        continue;
      }
      if (!parent.namespaced) keys.push(key.name);
      else {
        const namespace = key.namespace || obj.metadata?.namespace;
        if (!namespace) invalid++;
        else keys.push(queueKey(namespace, key.name));
      }
    }
    if (invalid > 0) failed('invalid_result', obj, `${invalid} of ${result.length} keys are not { name: string, namespace?: string }${parent.namespaced ? ' with a namespace (the object has none)' : ''}`);
    return keys;
  };

  /** The keys `obj` maps to: an array at once when the map is synchronous, else a promise; never rejects. */
  const mapOne = (obj: KubernetesObject, signal: AbortSignal): string[] | Promise<string[]> => {
    let result: unknown;
    try {
      result = map(obj, context(signal));
    } catch (err) {
      failed('threw', obj, describeError(err));
      return [];
    }
    if (result instanceof Promise || (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function')) {
      return Promise.resolve(result).then((value) => keysOf(value, obj), (err: unknown) => {
        failed('threw', obj, describeError(err));
        return [];
      });
    }
    return keysOf(result, obj);
  };

  const deliver = (lists: string[][]) => {
    const keys = new Set(lists.flat());
    for (const key of keys) options.enqueue(key);
    metrics.event(label, keys.size > 0 ? 'enqueued' : 'unmapped');
  };
  const onPredicateError = (err: unknown) => {
    metrics.event(label, 'error');
    warn({ err: describeError(err) }, 'an event predicate threw; the event passes');
  };
  const handle = (event: WatchEvent, objects: KubernetesObject[]) => {
    const signal = options.active();
    if (!signal) return;
    if (!passes(watch.predicates, event, onPredicateError)) {
      metrics.event(label, 'filtered');
      return;
    }
    const results = objects.map((obj) => mapOne(obj, signal));
    if (results.every(Array.isArray)) deliver(results as string[][]);
    // Some maps are asynchronous: wait for all, in order.
    else void Promise.all(results.map(async (r) => r)).then(deliver);
  };
  return {
    onAdd: (obj) => handle({ type: 'create', obj }, [obj]),
    // The old object too: a reference that moved away must tell the parent it left.
    onUpdate: (oldObj, newObj) => handle({ type: 'update', oldObj, newObj }, [oldObj, newObj]),
    onDelete: (obj) => handle({ type: 'delete', obj }, [obj]),
  };
}
