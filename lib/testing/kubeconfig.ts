import { writeFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { CertificateKeyPair } from './pki.js';

const base64 = (pem: string): string => Buffer.from(pem).toString('base64');

/**
 * A KubeConfig that reaches `server` as the holder of a client certificate, trusting
 * only the plane's CA (no insecure skip). The context is named `<user>@envtest`.
 */
export function clientCertKubeConfig(server: string, caPem: string, user: string, cert: CertificateKeyPair): KubeConfig {
  const kc = new KubeConfig();
  const context = `${user}@envtest`;
  kc.loadFromOptions({
    clusters: [{ name: 'envtest', server, caData: base64(caPem), skipTLSVerify: false }],
    users: [{ name: user, certData: base64(cert.certPem), keyData: base64(cert.keyPem) }],
    contexts: [{ name: context, cluster: 'envtest', user }],
    currentContext: context,
  });
  return kc;
}

/** Writes `kc` as a kubeconfig file (owner-only: it holds a private key) and returns its path. */
export async function writeKubeConfigFile(kc: KubeConfig, path: string): Promise<string> {
  // exportConfig() writes JSON, which is valid YAML for kubectl and client libraries.
  await writeFile(path, `${kc.exportConfig()}\n`, { mode: 0o600 });
  return path;
}
