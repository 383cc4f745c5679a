import { CustomObjectsApi, V1CustomResourceDefinition, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { isAlreadyExists, isConflict, isNotFound } from '../client/errors.js';
import type { KubeClient } from '../client/kube-client.js';
import { describeError } from '../errors/index.js';
import { standaloneClient } from './client.js';
import { CRDInstallError } from './errors.js';
import { ObjectLoadError, loadObjects, type ObjectSource } from './objects.js';
import { waitFor } from './wait.js';

/**
 * What `installCRDs` accepts: CRD objects (wire form as parsed from YAML/JSON, or
 * client-node models such as {@link generateCRD}'s result), YAML strings, or paths of
 * YAML files holding one or more CRDs. See {@link ObjectSource}.
 *
 * @example
 * ```ts
 * const sources: CRDSource[] = ['config/crd/bases/example.com_widgets.yaml', widgetCRD, yaml.load(text) as KubernetesObject];
 * ```
 */
export type CRDSource = V1CustomResourceDefinition | ObjectSource;

/**
 * Creates each CRD, or replaces it (carrying over its resourceVersion) if it exists, then
 * waits until each is Established, its group/version discovery lists its plural and a
 * list of it succeeds: the point from which clients (and informers) can use it. Every
 * field reaches the API server under its wire name, whichever form the CRD was given in.
 * Returns the CRDs as the server has them.
 */
export async function installCRDs(kc: KubeConfig, sources: readonly CRDSource[], timeoutMs: number): Promise<V1CustomResourceDefinition[]> {
  let loaded;
  try {
    loaded = await loadObjects(sources);
  } catch (err) {
    if (err instanceof ObjectLoadError) throw new CRDInstallError(err.origin, err.reason, { cause: err.cause });
    throw err;
  }
  const crds = loaded.map(({ object, origin }) => asCRD(object, origin));
  const client = standaloneClient(kc);
  const written = await Promise.all(crds.map((crd) => createOrReplace(client, crd)));
  const discovery = kc.makeApiClient(CustomObjectsApi);
  return Promise.all(written.map((crd) => waitUsable(client, discovery, crd, timeoutMs)));
}

function asCRD(obj: KubernetesObject, origin: string): V1CustomResourceDefinition {
  const name = obj.metadata?.name;
  if (obj.kind !== 'CustomResourceDefinition' || obj.apiVersion !== 'apiextensions.k8s.io/v1') {
    throw new CRDInstallError(name ?? origin, `expected apiextensions.k8s.io/v1 CustomResourceDefinition, got ${obj.apiVersion ?? '?'} ${obj.kind ?? '?'}${origin.startsWith('item ') ? '' : ` in ${origin}`}`);
  }
  if (!name) throw new CRDInstallError(origin, 'the CRD has no metadata.name');
  return obj as V1CustomResourceDefinition;
}

async function createOrReplace(client: KubeClient, crd: V1CustomResourceDefinition): Promise<V1CustomResourceDefinition> {
  const name = crd.metadata!.name!;
  // A conflict means someone wrote in between; three fresh reads are plenty in a test.
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.create(withoutServerFields(crd));
    } catch (err) {
      if (!isAlreadyExists(err)) throw new CRDInstallError(name, `create failed: ${describeError(err)}`, { cause: err });
    }
    try {
      const current = await client.readLive(crd);
      const body = withoutServerFields(crd);
      body.metadata = { ...body.metadata, resourceVersion: current.metadata?.resourceVersion };
      return await client.update(body);
    } catch (err) {
      const retriable = isConflict(err) || isNotFound(err);
      if (!retriable || attempt >= 2) throw new CRDInstallError(name, `replace failed: ${describeError(err)}`, { cause: err });
    }
  }
}

/**
 * A copy without the fields a create or update must not carry over from another read.
 * Only the top level is copied: the schema is sent as given (wire or model names).
 */
function withoutServerFields(crd: V1CustomResourceDefinition): V1CustomResourceDefinition {
  const { status: _status, ...rest } = crd;
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ts, managedFields: _mf, generation: _gen, ...metadata } = crd.metadata ?? {};
  return { ...rest, metadata };
}

async function waitUsable(
  client: KubeClient,
  discovery: CustomObjectsApi,
  crd: V1CustomResourceDefinition,
  timeoutMs: number,
): Promise<V1CustomResourceDefinition> {
  const name = crd.metadata!.name!;
  const { group, names } = crd.spec;
  const served = crd.spec.versions.filter((v) => v.served).map((v) => v.name);
  const established = await waitFor(`CRD ${name} Established`, timeoutMs, async () => {
    const current = await client.get(V1CustomResourceDefinition, { name });
    const conditions = current.status?.conditions ?? [];
    const namesAccepted = conditions.find((c) => c.type === 'NamesAccepted');
    if (namesAccepted?.status === 'False') {
      throw new CRDInstallError(name, `names not accepted: ${namesAccepted.message ?? namesAccepted.reason ?? ''}`);
    }
    const ok = conditions.some((c) => c.type === 'Established' && c.status === 'True');
    return ok
      ? { done: true, value: current }
      : { done: false, observed: conditions.map((c) => `${c.type}=${c.status}`).join(', ') || 'no conditions yet' };
  }, { fatal: (err) => err instanceof CRDInstallError });
  for (const version of served) {
    await waitFor(`${names.plural}.${group}/${version} in discovery`, timeoutMs, async () => {
      const list = await discovery.getAPIResources({ group, version });
      const ok = list.resources.some((r) => r.name === names.plural);
      return ok ? { done: true, value: undefined } : { done: false, observed: `served: ${list.resources.map((r) => r.name).join(', ') || 'nothing'}` };
    });
    // Discovery can list the plural while its storage is still initializing (a list then
    // answers 429 "storage is (re)initializing", which client-node does not retry).
    await waitFor(`${names.plural}.${group}/${version} listable`, timeoutMs, async () => {
      await discovery.listClusterCustomObject({ group, version, plural: names.plural, limit: 1 });
      return { done: true, value: undefined };
    });
  }
  return established;
}
