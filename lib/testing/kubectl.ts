import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { MaestroError } from '../errors/index.js';
import { controlPlaneAssets } from './assets.js';
import { shellQuote } from './errors.js';

/**
 * Options of {@link runKubectl}.
 *
 * @example
 * ```ts
 * await runKubectl(['apply', '-f', '-'], { kubeconfig: plane.kubeconfigPath, input: yaml });
 * ```
 */
export interface KubectlOptions {
  /** The cluster: a kubeconfig file's path, or a KubeConfig (written to a private temporary file for the call). */
  kubeconfig: string | KubeConfig;
  /** Written to kubectl's stdin (for `-f -`). */
  input?: string | Buffer;
  /** Killed (SIGKILL) after this long. Default 60000 ms. */
  timeoutMs?: number;
  /**
   * The kubectl binary. Default: the control plane's (`controlPlaneAssets().kubectl`,
   * built with the other binaries), else `kubectl` on PATH.
   */
  binary?: string;
  /** Reject with {@link KubectlError} when kubectl exits non-zero. Default true. */
  check?: boolean;
}

/**
 * What one kubectl run printed and how it ended.
 *
 * @example
 * ```ts
 * const { stdout } = await runKubectl(['get', 'ns', '-o', 'json'], { kubeconfig });
 * JSON.parse(stdout).items.length;
 * ```
 */
export interface KubectlResult {
  /** The exit code (`null` if killed by the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * kubectl exited non-zero (or was killed by the timeout); carries its output.
 *
 * @example
 * ```ts
 * await runKubectl(['get', 'widget', 'x'], { kubeconfig }).catch((err) => {
 *   if (err instanceof KubectlError && /NotFound/.test(err.stderr)) { ... }
 * });
 * ```
 */
export class KubectlError extends MaestroError {
  readonly code = 'Kubectl';
  constructor(
    readonly args: readonly string[],
    readonly result: KubectlResult,
  ) {
    super(`kubectl ${shellQuote(args)} ${result.code === null ? 'timed out' : `exited with code ${result.code}`}: ${result.stderr.trim().slice(-2_000) || '(no output)'}`);
  }

  get stderr(): string {
    return this.result.stderr;
  }
}

/**
 * Runs kubectl against a cluster (typically the local control plane: `plane.kubeconfigPath`)
 * and resolves with its output. kubectl is the reference client: use it to create objects
 * exactly as users do, including ones client libraries cannot express (e.g. a JSON
 * document nested thousands of levels deep).
 *
 * @throws {KubectlError} when kubectl exits non-zero or times out (unless `check: false`).
 * @example
 * ```ts
 * await runKubectl(['create', '-f', '-'], { kubeconfig: plane.kubeconfigPath, input: JSON.stringify(obj) });
 * await runKubectl(['patch', 'lease', 'my-operator', '-n', ns, '--type', 'merge', '-p', '{"spec":{"holderIdentity":"x"}}'],
 *   { kubeconfig: plane.kubeconfigPath });
 * ```
 */
export async function runKubectl(args: readonly string[], options: KubectlOptions): Promise<KubectlResult> {
  const binary = options.binary ?? (await controlPlaneAssets().then((a) => a.kubectl, () => undefined)) ?? 'kubectl';
  let dir: string | undefined;
  let kubeconfig: string;
  if (typeof options.kubeconfig === 'string') {
    kubeconfig = options.kubeconfig;
  } else {
    dir = await mkdtemp(join(tmpdir(), 'maestro-kubectl-'));
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, `${options.kubeconfig.exportConfig()}\n`, { mode: 0o600 });
  }
  try {
    const result = await new Promise<KubectlResult>((resolve, reject) => {
      const child = spawn(binary, ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new KubectlError(args, { code: null, stdout: '', stderr: `cannot run ${binary}: ${err.message}` }));
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
      });
      child.stdin.on('error', () => { /* kubectl may exit before reading its input */ });
      child.stdin.end(options.input ?? '');
    });
    if ((options.check ?? true) && result.code !== 0) throw new KubectlError(args, result);
    return result;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
