import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { MetricConflictError } from './errors.js';

interface Family<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
}

/**
 * Returns the registry's metric called `family.name` when it matches, or registers a new
 * one. Sharing lets several `Metrics` objects (or an application) use one registry, as
 * controller-runtime's controllers all share its global registry.
 */
function getOrRegister<M>(
  registry: Registry,
  family: Family<string>,
  type: abstract new (...args: never[]) => M,
  create: () => M,
): M {
  const existing: unknown = registry.getSingleMetric(family.name);
  if (existing === undefined) return create();
  if (!(existing instanceof type)) throw new MetricConflictError(family.name, 'another metric type');
  // prom-client keeps the label names on the metric but does not declare them.
  const labels = (existing as { labelNames?: readonly string[] }).labelNames ?? [];
  if ([...labels].sort().join(',') !== [...family.labelNames].sort().join(',')) {
    throw new MetricConflictError(family.name, `labels {${labels.join(',')}} instead of {${family.labelNames.join(',')}}`);
  }
  return existing;
}

/** @internal */
export function counter<L extends string>(registry: Registry, family: Family<L>): Counter<L> {
  return getOrRegister(registry, family, Counter, () => new Counter<L>({ ...family, registers: [registry] }));
}

/** @internal */
export function gauge<L extends string>(registry: Registry, family: Family<L>): Gauge<L> {
  return getOrRegister(registry, family, Gauge, () => new Gauge<L>({ ...family, registers: [registry] }));
}

/** @internal */
export function histogram<L extends string>(registry: Registry, family: Family<L> & { buckets: readonly number[] }): Histogram<L> {
  return getOrRegister(
    registry, family, Histogram,
    () => new Histogram<L>({ ...family, buckets: [...family.buckets], registers: [registry] }),
  );
}
