// Running as a ServiceAccount against a control plane, the way an operator runs in a pod:
// a token from the TokenRequest API (what the kubelet projects into pods) in a KubeConfig.
import { ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';

/** A ServiceAccount by name and namespace. */
export interface ServiceAccountRef {
  name: string;
  namespace: string;
}

/**
 * A KubeConfig that authenticates as `account` with a fresh bound token (TokenRequest API),
 * trusting the same CA as `admin`. Its context namespace is the account's, as in-cluster.
 * The ServiceAccount must exist.
 *
 * @example
 * ```ts
 * const kc = await serviceAccountKubeConfig(plane.kubeConfig, { name: 'widget-operator', namespace: ns });
 * ```
 */
export async function serviceAccountKubeConfig(admin: KubeConfig, account: ServiceAccountRef, expirationSeconds = 3600): Promise<KubeConfig> {
  const core = admin.makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name: account.name,
    namespace: account.namespace,
    // No audiences: the token is for the API server's own (its issuer).
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`no token issued for service account ${account.namespace}/${account.name}`);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin KubeConfig has no current cluster');
  const user = `system:serviceaccount:${account.namespace}:${account.name}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: cluster.name, server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user, namespace: account.namespace }],
    currentContext: user,
  });
  return kc;
}

/** Creates `objects` in order (like `kubectl create -f`), returning them as the server has them. */
export async function createAll(kc: KubeConfig, objects: readonly KubernetesObject[]): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const created: KubernetesObject[] = [];
  for (const obj of objects) created.push(await api.create(obj));
  return created;
}

/** Deletes `objects`, ignoring those already gone. */
export async function deleteAll(kc: KubeConfig, objects: readonly KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of [...objects].reverse()) {
    try {
      await api.delete(obj);
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
  }
}

/** The HTTP status of a rejected API call (undefined if it was not an API error). */
export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** Resolves with what `promise` rejects with, or fails if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to be rejected, but it succeeded');
}
