// The StaticSite operator: plan → ConfigMap → Deployment → Service → registration →
// readiness, and a finalizer that undoes the one side effect Kubernetes cannot
// garbage-collect for us.
import { createHash } from 'node:crypto';
import { V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import {
  Bound, Client, Context, Finalizer, Logger, Owns, Parent, Reconciles, Scoped, StaticBindable, Uses, fetchState, isNotFound,
  type Cleaner, type Reconciler, type Result,
} from 'maestro-operator';
import { StaticSite, pagesOf } from './site.js';

/** What every later step needs, computed once per reconcile. */
export interface SitePlan {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  contentHash: string;
  url: string;
}

/** Shares the plan between the reconcilers of one reconcile. */
export const sitePlan = new StaticBindable<SitePlan>('sitePlan');

/** What the reconcilers observed, shared within one reconcile (a fresh instance each time). */
@Scoped()
export class Observed {
  deployment?: V1Deployment;
}

/**
 * The site directory: one ConfigMap per namespace listing its sites (name → URL). It belongs
 * to no single site, so Kubernetes does not garbage-collect a site's entry: the finalizer
 * removes it. (Kept in the site's own namespace, so the operator needs no rights on the
 * Namespace objects themselves.)
 */
export const SITE_DIRECTORY = 'static-sites';

/** Each site applies its own entry as its own field manager, so sites never take each other's entries. */
export const registrationManager = (site: string) =>
  (site.length <= 100 ? `static-site/${site}` : `static-site/${createHash('sha256').update(site).digest('hex').slice(0, 32)}`);

@Parent(StaticSite) @Reconciles(10)
export class PlanSite implements Reconciler<StaticSite> {
  async reconcile(ctx: Context, _client: Client, site: StaticSite): Promise<Result> {
    const { name, namespace } = site.metadata as { name: string; namespace: string };
    const plan: SitePlan = {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': 'static-site', 'app.kubernetes.io/instance': name },
      contentHash: createHash('sha256').update(JSON.stringify(Object.entries(pagesOf(site.spec)).sort())).digest('hex').slice(0, 16),
      url: `http://${name}.${namespace}.svc`,
    };
    fetchState(ctx).updateContext(sitePlan.bindToContext(ctx, plan));
    return {};
  }
}

@Parent(StaticSite) @Reconciles(20) @Owns(V1ConfigMap)
export class ApplyContent implements Reconciler<StaticSite> {
  constructor(@Bound(sitePlan) private readonly plan: SitePlan) {}

  async reconcile(_ctx: Context, client: Client, site: StaticSite): Promise<Result> {
    await client.apply<V1ConfigMap>({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: `${this.plan.name}-content`, labels: this.plan.labels },
      data: pagesOf(site.spec),
    });
    return {};
  }
}

@Parent(StaticSite) @Reconciles(30) @Owns(V1Deployment)
export class ApplyDeployment implements Reconciler<StaticSite> {
  constructor(@Bound(sitePlan) private readonly plan: SitePlan, private readonly observed: Observed) {}

  async reconcile(_ctx: Context, client: Client, site: StaticSite): Promise<Result> {
    const { name, labels, contentHash } = this.plan;
    this.observed.deployment = await client.apply<V1Deployment>({
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name, labels },
      spec: {
        replicas: site.spec.replicas,
        selector: { matchLabels: labels },
        template: {
          // A new hash rolls the pods when the content changes.
          metadata: { labels, annotations: { 'sites.maestro.dev/content-hash': contentHash } },
          spec: {
            containers: [{
              name: 'web',
              image: site.spec.image,
              ports: [{ name: 'http', containerPort: 80 }],
              volumeMounts: [{ name: 'content', mountPath: '/usr/share/nginx/html', readOnly: true }],
            }],
            volumes: [{ name: 'content', configMap: { name: `${name}-content` } }],
          },
        },
      },
    });
    return {};
  }
}

@Parent(StaticSite) @Reconciles(40) @Owns(V1Service)
export class ApplyService implements Reconciler<StaticSite> {
  constructor(@Bound(sitePlan) private readonly plan: SitePlan) {}

  async reconcile(_ctx: Context, client: Client): Promise<Result> {
    await client.apply<V1Service>({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: this.plan.name, labels: this.plan.labels },
      spec: { selector: this.plan.labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    return {};
  }
}

@Parent(StaticSite) @Reconciles(50) @Uses(V1ConfigMap, { verbs: ['create', 'patch'] })
export class RegisterSite implements Reconciler<StaticSite> {
  constructor(@Bound(sitePlan) private readonly plan: SitePlan) {}

  async reconcile(_ctx: Context, client: Client): Promise<Result> {
    // An external side effect: the directory lists the site (shared, so not owned by the site).
    await client.apply<V1ConfigMap>({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: SITE_DIRECTORY },
      data: { [this.plan.name]: this.plan.url },
    }, { owned: false, fieldManager: registrationManager(this.plan.name) });
    return {};
  }
}

@Parent(StaticSite) @Reconciles(60)
export class ReportReadiness implements Reconciler<StaticSite> {
  constructor(@Bound(sitePlan) private readonly plan: SitePlan, private readonly observed: Observed, private readonly log: Logger) {}

  async reconcile(ctx: Context, _client: Client, site: StaticSite): Promise<Result> {
    const state = fetchState(ctx);
    state.addCondition({ type: 'Ready', status: 'True', reason: 'Reconciled', message: `serving ${this.plan.url}` });
    // The Deployment is owned, hence watched: when its pods come up, this runs again.
    const available = this.observed.deployment?.status?.availableReplicas ?? 0;
    const wanted = site.spec.replicas;
    state.addCondition(available >= wanted
      ? { type: 'Available', status: 'True', reason: 'ReplicasAvailable', message: `${available}/${wanted} replicas available` }
      : { type: 'Available', status: 'False', reason: 'ReplicasUnavailable', message: `${available}/${wanted} replicas available` });
    this.log.debug({ available, wanted }, 'readiness reported');
    return {};
  }
}

@Parent(StaticSite) @Finalizer('sites.maestro.dev/registration') @Uses(V1ConfigMap, { verbs: ['patch'] })
export class UnregisterSite implements Cleaner<StaticSite> {
  async cleanup(_ctx: Context, client: Client, site: StaticSite): Promise<Result> {
    const { name, namespace } = site.metadata as { name: string; namespace: string };
    const directory: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: SITE_DIRECTORY, namespace } };
    try {
      await client.patch(directory, { data: { [name]: null } });
    } catch (err) {
      if (!isNotFound(err)) throw err; // no directory: nothing to remove
    }
    return {};
  }
}

/** Every component of the operator, for createOperator({ reconcilers }). */
export const staticSiteComponents = [PlanSite, ApplyContent, ApplyDeployment, ApplyService, RegisterSite, ReportReadiness, UnregisterSite];
