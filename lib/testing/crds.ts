import { readFile } from 'node:fs/promises';
import {
  ApiextensionsV1Api, ApiException, CustomObjectsApi, loadAllYaml,
  type KubeConfig, type KubernetesObject, type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { describeError } from '../errors/index.js';
import { CRDInstallError } from './errors.js';
import { waitFor } from './wait.js';

/**
 * What `installCRDs` accepts: CRD objects, or paths of YAML files holding one or more.
 *
 * @example
 * ```ts
 * const sources: CRDSource[] = ['config/crd/bases/example.com_widgets.yaml', widgetCRD];
 * ```
 */
export type CRDSource = V1CustomResourceDefinition | KubernetesObject | string;

/**
 * Creates each CRD, or replaces it (carrying over its resourceVersion) if it exists, then
 * waits until each is Established, its group/version discovery lists its plural and a
 * list of it succeeds: the point from which clients (and informers) can use it. Returns the CRDs as the server
 * has them.
 */
export async function installCRDs(kc: KubeConfig, sources: readonly CRDSource[], timeoutMs: number): Promise<V1CustomResourceDefinition[]> {
  const crds = (await Promise.all(sources.map(load))).flat();
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const written = await Promise.all(crds.map((crd) => createOrReplace(api, crd)));
  const discovery = kc.makeApiClient(CustomObjectsApi);
  return Promise.all(written.map((crd) => waitUsable(api, discovery, crd, timeoutMs)));
}

async function load(source: CRDSource): Promise<V1CustomResourceDefinition[]> {
  if (typeof source !== 'string') return [asCRD(source, '(object)')];
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (err) {
    throw new CRDInstallError(source, `cannot read the file: ${describeError(err)}`, { cause: err });
  }
  let docs: unknown[];
  try {
    docs = loadAllYaml(text);
  } catch (err) {
    throw new CRDInstallError(source, `invalid YAML: ${describeError(err)}`, { cause: err });
  }
  // Empty documents (a leading or trailing `---`) load as null.
  return docs.filter((d) => d != null).map((d) => asCRD(d as KubernetesObject, source));
}

function asCRD(obj: KubernetesObject, origin: string): V1CustomResourceDefinition {
  const name = obj.metadata?.name;
  if (obj.kind !== 'CustomResourceDefinition' || obj.apiVersion !== 'apiextensions.k8s.io/v1') {
    throw new CRDInstallError(name ?? origin, `expected apiextensions.k8s.io/v1 CustomResourceDefinition, got ${obj.apiVersion ?? '?'} ${obj.kind ?? '?'}${origin === '(object)' ? '' : ` in ${origin}`}`);
  }
  if (!name) throw new CRDInstallError(origin, 'the CRD has no metadata.name');
  return obj as V1CustomResourceDefinition;
}

async function createOrReplace(api: ApiextensionsV1Api, crd: V1CustomResourceDefinition): Promise<V1CustomResourceDefinition> {
  const name = crd.metadata!.name!;
  // A conflict means someone wrote in between; three fresh reads are plenty in a test.
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.createCustomResourceDefinition({ body: withoutServerFields(crd) });
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 409) throw new CRDInstallError(name, `create failed: ${describeError(err)}`, { cause: err });
    }
    try {
      const current = await api.readCustomResourceDefinition({ name });
      const body = withoutServerFields(crd);
      body.metadata = { ...body.metadata, resourceVersion: current.metadata?.resourceVersion };
      return await api.replaceCustomResourceDefinition({ name, body });
    } catch (err) {
      const retriable = err instanceof ApiException && (err.code === 409 || err.code === 404);
      if (!retriable || attempt >= 2) throw new CRDInstallError(name, `replace failed: ${describeError(err)}`, { cause: err });
    }
  }
}

/** A copy without the fields a create or update must not carry over from another read. */
function withoutServerFields(crd: V1CustomResourceDefinition): V1CustomResourceDefinition {
  const { status: _status, ...rest } = crd;
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ts, managedFields: _mf, generation: _gen, ...metadata } = crd.metadata ?? {};
  return { ...rest, metadata };
}

async function waitUsable(
  api: ApiextensionsV1Api,
  discovery: CustomObjectsApi,
  crd: V1CustomResourceDefinition,
  timeoutMs: number,
): Promise<V1CustomResourceDefinition> {
  const name = crd.metadata!.name!;
  const { group, names } = crd.spec;
  const served = crd.spec.versions.filter((v) => v.served).map((v) => v.name);
  const established = await waitFor(`CRD ${name} Established`, timeoutMs, async () => {
    const current = await api.readCustomResourceDefinition({ name });
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
