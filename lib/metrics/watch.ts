import type { Registry } from 'prom-client';
import { counter } from './families.js';

/** What became of one watch event: `enqueued` (it led to parents), `filtered` (a predicate dropped it), `unmapped` (it led to no parent), `error` (the map failed). */
export type WatchEventResult = 'enqueued' | 'filtered' | 'unmapped' | 'error';

/** Why a map function failed: it threw (or rejected), or returned something else than an array of keys. */
export type MapErrorReason = 'threw' | 'invalid_result';

/**
 * What a controller's event sources report, labelled `{controller, resource}` (`resource`
 * is `plural.group`, e.g. `secrets.core`): `maestro_watch_events_total{result}` per event
 * and source, and `maestro_watch_map_errors_total{reason}` when a map function fails.
 *
 * @example
 * ```ts
 * const watch = metrics.watch('database');
 * watch.event('secrets.core', 'filtered');
 * ```
 */
export interface WatchMetrics {
  event(resource: string, result: WatchEventResult): void;
  mapError(resource: string, reason: MapErrorReason): void;
}

/** @internal The watch metric families of one registry (Maestro's own; controller-runtime has none). */
export class WatchFamilies {
  readonly #events;
  readonly #mapErrors;

  constructor(registry: Registry) {
    this.#events = counter(registry, {
      name: 'maestro_watch_events_total',
      help: 'Watch events per controller and source resource, by what became of them (enqueued, filtered, unmapped, error)',
      labelNames: ['controller', 'resource', 'result'],
    });
    this.#mapErrors = counter(registry, {
      name: 'maestro_watch_map_errors_total',
      help: 'Map functions of related watches that threw, rejected or returned an invalid result',
      labelNames: ['controller', 'resource', 'reason'],
    });
  }

  watch(controller: string): WatchMetrics {
    return {
      event: (resource, result) => this.#events.inc({ controller, resource, result }),
      mapError: (resource, reason) => this.#mapErrors.inc({ controller, resource, reason }),
    };
  }
}
