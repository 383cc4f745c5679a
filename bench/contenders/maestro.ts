// Contender (a): the Site operator written with Maestro's decorators, as a user would:
// a custom resource class with class-validator constraints, one reconciler per child
// (server-side apply through the reconcile's client, which sets the owner reference and
// skips applies it knows to be no-ops) and a step that reports Ready; the runtime's
// default status handler writes the conditions and observedGeneration.
import 'reflect-metadata';
import { KubeConfig, V1ConfigMap, V1Service, type V1ObjectMeta } from '@kubernetes/client-node';
import { IsInt, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { singleton } from 'tsyringe';
import { createOperator, fetchState, type Client, type Condition, type Context, type Reconciler, type Result } from '../../lib/index.js';
import { Owns, Parent, Reconciles, Resource } from '../../decorators/index.js';
import { serve } from '../contender.js';
import { FIELD_MANAGER, READY, SITE, configMapFor, readyMessage, serviceFor, type SiteObject } from '../site.js';

export class SiteSpec {
  @IsString() @MaxLength(4096) content!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
}

@Resource({ group: SITE.group, version: SITE.version, kind: SITE.kind })
export class Site {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @ValidateNested() spec!: SiteSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

/** Counts conducts (a singleton of the root container, injected into the first and the last step). */
@singleton()
export class ReconcileCounter {
  count = 0;
  /** performance.now() when the last step of the last conduct ran. */
  last = 0;
}

@Parent(Site) @Reconciles(10) @Owns(V1ConfigMap)
export class SiteConfigMap implements Reconciler<Site> {
  constructor(private readonly counter: ReconcileCounter) {}
  async reconcile(_ctx: Context, client: Client, site: Site): Promise<Result> {
    this.counter.count++;
    await client.apply<V1ConfigMap>(configMapFor(site as SiteObject));
    return {};
  }
}

@Parent(Site) @Reconciles(20) @Owns(V1Service)
export class SiteService implements Reconciler<Site> {
  async reconcile(_ctx: Context, client: Client, site: Site): Promise<Result> {
    await client.apply<V1Service>(serviceFor(site as SiteObject));
    return {};
  }
}

@Parent(Site) @Reconciles(30)
export class SiteReady implements Reconciler<Site> {
  constructor(private readonly counter: ReconcileCounter) {}
  async reconcile(ctx: Context, _client: Client, site: Site): Promise<Result> {
    this.counter.last = performance.now();
    fetchState(ctx).addCondition({ ...READY, message: readyMessage(site as SiteObject) });
    return {};
  }
}

export const siteReconcilers = [SiteConfigMap, SiteService, SiteReady];

await serve(async ({ kubeconfigPath, namespace, concurrency }) => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const { container } = await import('tsyringe');
  const counter = container.resolve(ReconcileCounter);
  const operator = createOperator({
    name: FIELD_MANAGER,
    kubeConfig,
    reconcilers: siteReconcilers,
    namespaces: [namespace],
    maxConcurrentReconciles: concurrency,
    server: false,
    logLevel: process.env['BENCH_LOG_LEVEL'] ?? 'warn',
  });
  return {
    start: () => operator.start({ handleSignals: false, ...memoryMode(process.env['BENCH_MAESTRO_OPTIMIZE_FOR_SIZE']) }),
    stop: () => operator.stop(),
    reconciles: () => counter.count,
    lastReconcileMs: () => counter.last,
  };
});

/**
 * start()'s memory mode from BENCH_MAESTRO_OPTIMIZE_FOR_SIZE, for A/B runs: unset, the
 * default; `false`, V8's defaults; `always`, the mode whatever the heap; a number, the bound
 * in MiB (`untilHeapGrowthMiB`).
 */
function memoryMode(value: string | undefined): { optimizeForSize?: boolean | { untilHeapGrowthMiB: number } } {
  if (value === undefined || value === '') return {};
  if (value === 'false') return { optimizeForSize: false };
  return { optimizeForSize: { untilHeapGrowthMiB: value === 'always' ? Infinity : Number(value) } };
}
