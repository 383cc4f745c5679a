// The benchmark's custom resource, a static-site-like `Site`, and the two children every
// contender applies for it. Plain data only (no Maestro import), so the baseline and the
// peer processes load nothing of Maestro.
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';

/** The Site resource. */
export const SITE = {
  group: 'bench.maestro.dev',
  version: 'v1',
  kind: 'Site',
  plural: 'sites',
  apiVersion: 'bench.maestro.dev/v1',
} as const;

/** The field manager (and Event component) of every contender. */
export const FIELD_MANAGER = 'site-operator';

export interface SiteSpec {
  /** The page served (the ConfigMap's `index.html`). */
  content: string;
  /** The Service's port. */
  port: number;
}

export interface SiteCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string | Date;
}

export interface SiteObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    [key: string]: unknown;
  };
  spec: SiteSpec;
  status?: { observedGeneration?: number; conditions?: SiteCondition[] };
}

/** The Site CRD. */
export function siteCRD(): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${SITE.plural}.${SITE.group}` },
    spec: {
      group: SITE.group,
      scope: 'Namespaced',
      names: { plural: SITE.plural, singular: 'site', kind: SITE.kind },
      versions: [{
        name: SITE.version, served: true, storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['content', 'port'],
                properties: {
                  content: { type: 'string', maxLength: 4096 },
                  port: { type: 'integer', minimum: 1, maximum: 65535 },
                },
              },
              status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
            },
          },
        },
      }],
    },
  };
}

/** A new Site. */
export function site(namespace: string, name: string, revision = 0): SiteObject {
  return {
    apiVersion: SITE.apiVersion,
    kind: SITE.kind,
    metadata: { name, namespace },
    spec: siteSpec(name, revision),
  };
}

/** The spec of Site `name` at a revision (the steady-state scenario bumps it). */
export function siteSpec(name: string, revision: number): SiteSpec {
  return { content: `<html><body><h1>${name}</h1><p>revision ${revision}</p></body></html>`, port: 8080 };
}

/** The labels of both children. */
export const childLabels = (name: string): Record<string, string> => ({ 'app.kubernetes.io/name': 'site', 'app.kubernetes.io/instance': name });

/** The ConfigMap of a Site, without owner reference (Maestro adds it itself). */
export function configMapFor(site: SiteObject) {
  const name = site.metadata!.name!;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: site.metadata!.namespace, labels: childLabels(name) },
    data: { 'index.html': site.spec.content },
  };
}

/** The Service of a Site, without owner reference. */
export function serviceFor(site: SiteObject) {
  const name = site.metadata!.name!;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: site.metadata!.namespace, labels: childLabels(name) },
    spec: { selector: childLabels(name), ports: [{ name: 'http', port: site.spec.port, targetPort: 8080 }] },
  };
}

/** The controller owner reference the children get (what Maestro's `apply` adds). */
export function ownerReference(site: SiteObject) {
  return {
    apiVersion: SITE.apiVersion,
    kind: SITE.kind,
    name: site.metadata!.name!,
    uid: site.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** A child with the owner reference set (for the contenders that do it by hand). */
export function owned<T extends { metadata: object }>(child: T, site: SiteObject): T {
  return { ...child, metadata: { ...child.metadata, ownerReferences: [ownerReference(site)] } };
}

/** The Ready condition every contender writes. */
export const READY = { type: 'Ready', status: 'True', reason: 'Reconciled' } as const;
export const readyMessage = (site: SiteObject): string => `serving ${site.metadata!.name} on port ${site.spec.port}`;

/**
 * Whether a Site is Ready for its current generation: the harness's definition of
 * converged, the same for every contender.
 */
export function isReady(site: SiteObject): boolean {
  const generation = site.metadata?.generation;
  const ready = site.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' && generation !== undefined && ready.observedGeneration === generation;
}

/**
 * The status a hand-written operator writes: Ready=True for the current generation,
 * keeping `lastTransitionTime` when Ready was True already (as apimachinery's
 * `SetStatusCondition` does).
 */
export function readyStatus(site: SiteObject): { observedGeneration: number; conditions: SiteCondition[] } {
  const generation = site.metadata!.generation!;
  const previous = site.status?.conditions?.find((c) => c.type === 'Ready');
  const lastTransitionTime = previous?.status === 'True' ? previous.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const others = (site.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
  return {
    observedGeneration: generation,
    conditions: [...others, { ...READY, message: readyMessage(site), observedGeneration: generation, lastTransitionTime }],
  };
}
