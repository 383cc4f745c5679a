import type { Registry } from 'prom-client';
import type { QueueMetrics } from '../queue/index.js';
import { counter, gauge, histogram } from './families.js';

// Names, help texts, labels and buckets are controller-runtime's (pkg/metrics/workqueue.go),
// so dashboards and alerts written for Go operators work unchanged.
type QueueLabel = 'name' | 'controller';
const QUEUE_LABELS: readonly QueueLabel[] = ['name', 'controller'];

/** 1e-8 s to 1000 s: Go's `prometheus.ExponentialBuckets(10e-9, 10, 12)`, written out to avoid float drift. */
export const WORKQUEUE_DURATION_BUCKETS: readonly number[] = Object.freeze([
  1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000,
]);

/** @internal The `workqueue_*` metric families of one registry. */
export class WorkqueueFamilies {
  readonly depth;
  readonly adds;
  readonly latency;
  readonly workDuration;
  readonly unfinished;
  readonly longestRunningProcessor;
  readonly retries;

  constructor(registry: Registry) {
    this.depth = gauge(registry, {
      name: 'workqueue_depth',
      help: 'Current depth of workqueue by workqueue and priority',
      labelNames: [...QUEUE_LABELS, 'priority'],
    });
    this.adds = counter(registry, {
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: QUEUE_LABELS,
    });
    this.latency = histogram(registry, {
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: QUEUE_LABELS,
      buckets: WORKQUEUE_DURATION_BUCKETS,
    });
    this.workDuration = histogram(registry, {
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes.',
      labelNames: QUEUE_LABELS,
      buckets: WORKQUEUE_DURATION_BUCKETS,
    });
    this.unfinished = gauge(registry, {
      name: 'workqueue_unfinished_work_seconds',
      help: 'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. '
        + 'Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.',
      labelNames: QUEUE_LABELS,
    });
    this.longestRunningProcessor = gauge(registry, {
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames: QUEUE_LABELS,
    });
    this.retries = counter(registry, {
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: QUEUE_LABELS,
    });
  }

  /**
   * The hooks for the queue `name`. Like controller-runtime, `name` and `controller` both
   * carry the queue name, and depth has `priority=""` (a queue without priorities).
   * Every series starts at zero so it is scraped before the first add.
   */
  queue(name: string): QueueMetrics {
    // Alphabetical label order, as Go's client prints them.
    const labels = { controller: name, name };
    const depthLabels = { controller: name, name, priority: '' };
    this.depth.inc(depthLabels, 0);
    this.adds.inc(labels, 0);
    this.latency.zero(labels);
    this.workDuration.zero(labels);
    this.unfinished.set(labels, 0);
    this.longestRunningProcessor.set(labels, 0);
    this.retries.inc(labels, 0);
    return {
      add: () => this.adds.inc(labels),
      depth: (delta) => this.depth.inc(depthLabels, delta),
      queueDuration: (seconds) => this.latency.observe(labels, seconds),
      workDuration: (seconds) => this.workDuration.observe(labels, seconds),
      retry: () => this.retries.inc(labels),
      unfinishedWork: (seconds) => this.unfinished.set(labels, seconds),
      longestRunningProcessor: (seconds) => this.longestRunningProcessor.set(labels, seconds),
    };
  }
}
