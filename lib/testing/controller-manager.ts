import { httpsGet, type ProbeTls } from './http.js';

/** The files and ports the controller manager is started with. */
export interface ControllerManagerConfig {
  binary: string;
  port: number;
  kubeconfigFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  caCertFile: string;
  caKeyFile: string;
  serviceAccountPrivateKeyFile: string;
}

/**
 * kube-controller-manager with every default controller except those that need a cloud,
 * its own credentials for all of them, no leader election, serving on loopback only.
 */
export function controllerManagerCommand(config: ControllerManagerConfig): string[] {
  const flags: Record<string, string> = {
    'kubeconfig': config.kubeconfigFile,
    'authentication-kubeconfig': config.kubeconfigFile,
    'authorization-kubeconfig': config.kubeconfigFile,
    'controllers': '*,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller',
    'leader-elect': 'false',
    'use-service-account-credentials': 'false',
    'service-account-private-key-file': config.serviceAccountPrivateKeyFile,
    'root-ca-file': config.caCertFile,
    'cluster-signing-cert-file': config.caCertFile,
    'cluster-signing-key-file': config.caKeyFile,
    'bind-address': '127.0.0.1',
    'secure-port': String(config.port),
    'tls-cert-file': config.servingCertFile,
    'tls-private-key-file': config.servingKeyFile,
    'profiling': 'false',
  };
  return [config.binary, ...Object.entries(flags).map(([name, value]) => `--${name}=${value}`)];
}

/** Whether the controller manager's `/healthz` answers 200. */
export async function controllerManagerHealthy(port: number, tls: ProbeTls): Promise<{ ok: boolean; observed: string }> {
  const res = await httpsGet(`https://127.0.0.1:${port}/healthz`, tls);
  return { ok: res.status === 200, observed: `/healthz: HTTP ${res.status} ${res.body.trim().slice(0, 200)}` };
}
