// The StaticSite operator: theme → plan → ConfigMap → Deployment → Service → registration →
// readiness, and a finalizer that undoes the one side effect Kubernetes cannot
// garbage-collect for us.
import { createHash } from 'node:crypto';
import { V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import {
  Bound, Client, Context, Finalizer, Index, Logger, Owns, Parent, Reconciles, Scoped, StaticBindable, Uses, Watches, fetchState, isNotFound,
  type Cleaner, type Reconciler, type Result,
} from 'maestro-operator';
import { byIndex, fieldChanged } from 'maestro-operator/watches';
import { StaticSite, pagesOf } from './site.js';

/** The stylesheet of the site's theme (`spec.themeRef`), or `''`. */
export interface SiteTheme {
  css: string;
}

/** Shares the theme with the plan and the content. */
export const siteTheme = new StaticBindable<SiteTheme>('siteTheme');

/** The key of a theme ConfigMap that holds its stylesheet. */
export const THEME_KEY = 'theme.css';

/** The page as served: the theme's stylesheet (if any) merged in front of the content. */
export const renderPage = (content: string, theme: SiteTheme): string => (theme.css ? `<style>\n${theme.css}\n</style>\n${content}` : content);

/** The pages as served: the theme merged into every HTML page, other files as they are. */
export const renderPages = (pages: Record<string, string>, theme: SiteTheme): Record<string, string> =>
  Object.fromEntries(Object.entries(pages).map(([name, content]) => [name, name.endsWith('.html') ? renderPage(content, theme) : content]));

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

/**
 * Reads the theme ConfigMap the site names (from the cache) and shares its stylesheet. The
 * ConfigMaps are watched: a theme that appears, changes or goes away reaches exactly the
 * sites whose `spec.themeRef` names it (an index on StaticSites), and only data changes
 * count. A missing theme is no failure: the site is served unthemed, with `Themed=False`.
 */
@Parent(StaticSite) @Reconciles(5)
@Index(StaticSite, 'spec.themeRef', (site) => site.spec.themeRef)
@Watches(V1ConfigMap, byIndex('spec.themeRef'), { predicates: [fieldChanged('data')] })
export class ResolveTheme implements Reconciler<StaticSite> {
  async reconcile(ctx: Context, client: Client, site: StaticSite): Promise<Result> {
    const state = fetchState(ctx);
    const ref = site.spec.themeRef;
    let css = '';
    if (!ref) state.removeCondition('Themed');
    else {
      try {
        const theme = await client.get(V1ConfigMap, { name: ref });
        css = theme.data?.[THEME_KEY] ?? '';
        state.addCondition(css
          ? { type: 'Themed', status: 'True', reason: 'ThemeApplied', message: `theme ${ref}` }
          : { type: 'Themed', status: 'False', reason: 'ThemeInvalid', message: `ConfigMap ${ref} has no ${THEME_KEY}` });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        state.addCondition({ type: 'Themed', status: 'False', reason: 'ThemeNotFound', message: `ConfigMap ${ref} not found; serving the site unthemed` });
      }
    }
    state.updateContext(siteTheme.bindToContext(ctx, { css }));
    return {};
  }
}

@Parent(StaticSite) @Reconciles(10)
export class PlanSite implements Reconciler<StaticSite> {
  constructor(@Bound(siteTheme) private readonly theme: SiteTheme) {}

  async reconcile(ctx: Context, _client: Client, site: StaticSite): Promise<Result> {
    const { name, namespace } = site.metadata as { name: string; namespace: string };
    const plan: SitePlan = {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': 'static-site', 'app.kubernetes.io/instance': name },
      // The pages as served: a theme change rolls the pods like a content change.
      contentHash: createHash('sha256').update(JSON.stringify(Object.entries(renderPages(pagesOf(site.spec), this.theme)).sort())).digest('hex').slice(0, 16),
      url: `http://${name}.${namespace}.svc`,
    };
    fetchState(ctx).updateContext(sitePlan.bindToContext(ctx, plan));
    return {};
  }
}

@Parent(StaticSite) @Reconciles(20) @Owns(V1ConfigMap)
export class ApplyContent implements Reconciler<StaticSite> {
  constructor(@Bound(sitePlan) private readonly plan: SitePlan, @Bound(siteTheme) private readonly theme: SiteTheme) {}

  async reconcile(_ctx: Context, client: Client, site: StaticSite): Promise<Result> {
    await client.apply<V1ConfigMap>({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: `${this.plan.name}-content`, labels: this.plan.labels },
      data: renderPages(pagesOf(site.spec), this.theme),
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
export const staticSiteComponents = [ResolveTheme, PlanSite, ApplyContent, ApplyDeployment, ApplyService, RegisterSite, ReportReadiness, UnregisterSite];
