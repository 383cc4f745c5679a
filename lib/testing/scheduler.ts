import { httpsGet, type ProbeTls } from './http.js';

/** The files and port kube-scheduler is started with. */
export interface SchedulerConfig {
  binary: string;
  port: number;
  kubeconfigFile: string;
  servingCertFile: string;
  servingKeyFile: string;
}

/** kube-scheduler with its default profile, its own credentials, no leader election, serving on loopback only. */
export function schedulerCommand(config: SchedulerConfig): string[] {
  const flags: Record<string, string> = {
    'kubeconfig': config.kubeconfigFile,
    'authentication-kubeconfig': config.kubeconfigFile,
    'authorization-kubeconfig': config.kubeconfigFile,
    'leader-elect': 'false',
    'bind-address': '127.0.0.1',
    'secure-port': String(config.port),
    'tls-cert-file': config.servingCertFile,
    'tls-private-key-file': config.servingKeyFile,
    'profiling': 'false',
  };
  return [config.binary, ...Object.entries(flags).map(([name, value]) => `--${name}=${value}`)];
}

/** Whether the scheduler's `/healthz` answers 200. */
export async function schedulerHealthy(port: number, tls: ProbeTls): Promise<{ ok: boolean; observed: string }> {
  const res = await httpsGet(`https://127.0.0.1:${port}/healthz`, tls);
  return { ok: res.status === 200, observed: `/healthz: HTTP ${res.status} ${res.body.trim().slice(0, 200)}` };
}
