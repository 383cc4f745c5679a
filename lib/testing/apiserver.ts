import { httpsGet, type ProbeTls } from './http.js';

/** The files and ports the API server is started with. */
export interface ApiServerConfig {
  binary: string;
  port: number;
  etcdUrl: string;
  certDir: string;
  servingCertFile: string;
  servingKeyFile: string;
  clientCAFile: string;
  serviceAccountPublicKeyFile: string;
  serviceAccountPrivateKeyFile: string;
  /** Extra flags (without the leading dashes); they replace defaults of the same name. */
  extraFlags?: Record<string, string>;
}

/** The API server's URL. */
export function apiServerUrl(port: number): string {
  return `https://127.0.0.1:${port}`;
}

/**
 * The command line envtest uses for kube-apiserver, with our CA's serving certificate and
 * client-certificate authentication (so any user and groups can be minted later).
 */
export function apiServerCommand(config: ApiServerConfig): string[] {
  const flags: Record<string, string> = {
    'etcd-servers': config.etcdUrl,
    'cert-dir': config.certDir,
    'tls-cert-file': config.servingCertFile,
    'tls-private-key-file': config.servingKeyFile,
    'client-ca-file': config.clientCAFile,
    'secure-port': String(config.port),
    // Without an explicit loopback address the API server looks for a default route,
    // which offline machines do not have.
    'bind-address': '127.0.0.1',
    'advertise-address': '127.0.0.1',
    'service-cluster-ip-range': '10.0.0.0/24',
    'allow-privileged': 'true',
    // No token controller mounts tokens into pods here; the plugin would reject them.
    'disable-admission-plugins': 'ServiceAccount',
    'authorization-mode': 'RBAC',
    'service-account-issuer': `${apiServerUrl(config.port)}/`,
    'service-account-key-file': config.serviceAccountPublicKeyFile,
    'service-account-signing-key-file': config.serviceAccountPrivateKeyFile,
    'profiling': 'false',
    // The `kubernetes` Service cannot have a loopback endpoint; nothing in tests needs one.
    'endpoint-reconciler-type': 'none',
    // On SIGTERM, end open watches (the controller manager's) promptly instead of letting
    // the HTTP server wait for them: a restart then takes about a second, not minutes.
    'shutdown-watch-termination-grace-period': '200ms',
    ...config.extraFlags,
  };
  return [config.binary, ...Object.entries(flags).map(([name, value]) => `--${name}=${value}`)];
}

/**
 * One readiness probe: `/readyz` answers 200 (as the admin) and namespace `default`
 * exists (the bootstrap controller creates it shortly after).
 */
export async function apiServerReady(port: number, admin: ProbeTls): Promise<{ ok: boolean; observed: string }> {
  const readyz = await httpsGet(`${apiServerUrl(port)}/readyz?verbose`, admin);
  if (readyz.status !== 200) return { ok: false, observed: `/readyz: HTTP ${readyz.status} ${failingChecks(readyz.body)}` };
  const ns = await httpsGet(`${apiServerUrl(port)}/api/v1/namespaces/default`, admin);
  if (ns.status !== 200) return { ok: false, observed: `namespace default: HTTP ${ns.status}` };
  return { ok: true, observed: 'ready' };
}

/** The `[-]` lines of a verbose health answer: the checks still failing. */
function failingChecks(body: string): string {
  const failing = body.split('\n').filter((l) => l.startsWith('[-]')).map((l) => l.slice(3).split(' ')[0]);
  return failing.length ? `(failing: ${failing.join(', ')})` : body.trim().slice(0, 200);
}
