// A kubeconfig of one cluster at `server` (TLS not verified) and a user with `token`, for the
// tests whose server is a local stand-in or unreachable on purpose.
import { KubeConfig } from '@kubernetes/client-node';

export function kubeConfigFor(server: string, token?: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'local', server, skipTLSVerify: true }],
    users: [{ name: 'me', ...(token === undefined ? {} : { token }) }],
    contexts: [{ name: 'local', cluster: 'local', user: 'me' }],
    currentContext: 'local',
  });
  return kubeConfig;
}
