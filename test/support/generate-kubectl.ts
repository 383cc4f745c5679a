// Applying generated YAML the way users do: `kubectl apply --server-side --validate=strict`,
// which also fails on any field name the API server does not know (so model names such as
// `x_kubernetes_preserve_unknown_fields` would not slip through).
import { spawn } from 'node:child_process';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/testing/index.js';
import { createAll } from './service-account.js';

/** The result of one kubectl run. */
export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the control plane's kubectl as the admin, with `input` on stdin. */
export function kubectl(plane: ControlPlane, args: readonly string[], input?: string): Promise<KubectlResult> {
  const binary = plane.assets.kubectl ?? 'kubectl';
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['--kubeconfig', plane.kubeconfigPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/**
 * Applies multi-document YAML with `kubectl apply --server-side --validate=strict -f -`,
 * or, without a kubectl binary, creates the loaded documents through client-node.
 */
export async function applyYAML(plane: ControlPlane, yaml: string): Promise<string> {
  if (!plane.assets.kubectl) {
    await createAll(plane.kubeConfig, loadAllYaml(yaml).filter((d) => d != null) as KubernetesObject[]);
    return 'created with client-node (no kubectl binary)';
  }
  const result = await kubectl(plane, ['apply', '--server-side', '--validate=strict', '--field-manager=maestro-test', '-f', '-'], yaml);
  if (result.code !== 0) throw new Error(`kubectl apply failed (${result.code}): ${result.stderr || result.stdout}`);
  return result.stdout;
}
