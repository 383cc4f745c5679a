import { spawn } from 'node:child_process';
import { constants, existsSync, readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describeError } from '../errors/index.js';
import { ControlPlaneAssetsError } from './errors.js';

/**
 * Where the control plane's binaries are. Only the API server and etcd are required;
 * the controller manager is needed for `controllerManager: true`, kubectl only by tests
 * that run it.
 *
 * @example
 * ```ts
 * const assets = await controlPlaneAssets();
 * execFileSync(assets.kubectl ?? 'kubectl', ['version', '--client']);
 * ```
 */
export interface ControlPlaneAssets {
  kubeApiServer: string;
  etcd: string;
  kubeControllerManager?: string;
  kubectl?: string;
  /** The folder the binaries came from, when they came from one (KUBEBUILDER_ASSETS or the cache). */
  dir?: string;
}

/**
 * Options of {@link controlPlaneAssets}.
 *
 * @example
 * ```ts
 * await controlPlaneAssets({ build: true, log: (line) => process.stderr.write(`${line}\n`) });
 * ```
 */
export interface ControlPlaneAssetsOptions {
  /**
   * Build the binaries with `scripts/control-plane-assets` when they are nowhere to be
   * found. A cold build takes 10-30 minutes (it needs Go and the Go module proxy); so the
   * default is false, and test suites do it once in a global setup.
   */
  build?: boolean;
  /** Receives the build's progress lines. Default: written to stderr. */
  log?: (line: string) => void;
}

type AssetKey = 'kubeApiServer' | 'etcd' | 'kubeControllerManager' | 'kubectl';

const binaries: ReadonlyArray<{ key: AssetKey; file: string; env: string; required: boolean }> = [
  { key: 'kubeApiServer', file: 'kube-apiserver', env: 'TEST_ASSET_KUBE_APISERVER', required: true },
  { key: 'etcd', file: 'etcd', env: 'TEST_ASSET_ETCD', required: true },
  { key: 'kubeControllerManager', file: 'kube-controller-manager', env: 'TEST_ASSET_KUBE_CONTROLLER_MANAGER', required: false },
  { key: 'kubectl', file: 'kubectl', env: 'TEST_ASSET_KUBECTL', required: false },
];

/** controller-runtime's envtest default folder, honoured after our own cache. */
const kubebuilderDefault = '/usr/local/kubebuilder/bin';

/**
 * Finds the control plane's binaries the way controller-runtime's envtest does, so
 * binaries from `setup-envtest` work unchanged. For each binary, in order:
 * 1. `TEST_ASSET_KUBE_APISERVER`, `TEST_ASSET_ETCD`, `TEST_ASSET_KUBE_CONTROLLER_MANAGER`,
 *    `TEST_ASSET_KUBECTL` (a path to the binary itself);
 * 2. `$KUBEBUILDER_ASSETS/<name>`;
 * 3. this package's cache, as printed by `scripts/control-plane-assets --print`;
 * 4. `/usr/local/kubebuilder/bin/<name>`;
 * 5. with `build: true`, the cache after running `scripts/control-plane-assets`.
 *
 * @throws {ControlPlaneAssetsError} when the API server or etcd cannot be found (or built),
 *   or a `TEST_ASSET_*` variable names a file that is not executable.
 * @example
 * ```ts
 * const assets = await controlPlaneAssets({ build: true, log: (l) => console.error(l) });
 * assets.kubeApiServer; // '/root/.cache/maestro-operator/control-plane/kubernetes-v1.36.3-etcd-v3.6.16/kube-apiserver'
 * ```
 */
export async function controlPlaneAssets(options: ControlPlaneAssetsOptions = {}): Promise<ControlPlaneAssets> {
  const found: Partial<Record<AssetKey, string>> = {};
  let dir: string | undefined;
  for (const b of binaries) {
    const fromEnv = process.env[b.env];
    if (!fromEnv) continue;
    if (!(await isExecutable(fromEnv))) throw new ControlPlaneAssetsError(`${b.env}=${fromEnv} is not an executable file`);
    found[b.key] = fromEnv;
  }
  const fill = async (folder: string | undefined): Promise<void> => {
    if (!folder) return;
    for (const b of binaries) {
      if (found[b.key]) continue;
      const path = join(folder, b.file);
      if (await isExecutable(path)) {
        found[b.key] = path;
        if (b.key === 'kubeApiServer') dir = folder;
      }
    }
  };
  const missing = (requiredOnly: boolean): boolean => binaries.some((b) => (b.required || !requiredOnly) && !found[b.key]);

  await fill(process.env['KUBEBUILDER_ASSETS']);
  const script = assetsScript();
  if (missing(false) && script) await fill(await runScript(script, ['--print']).catch(() => undefined));
  if (missing(false)) await fill(kubebuilderDefault);
  if (missing(true) && options.build) {
    if (!script) throw new ControlPlaneAssetsError('cannot build the control plane: scripts/control-plane-assets is not in this installation of maestro-operator');
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    try {
      await fill(await runScript(script, [], log));
    } catch (err) {
      throw new ControlPlaneAssetsError(`building the control plane binaries failed: ${describeError(err)}`, { cause: err });
    }
  }
  if (!found.kubeApiServer || !found.etcd) {
    const absent = binaries.filter((b) => b.required && !found[b.key]).map((b) => b.file).join(' and ');
    throw new ControlPlaneAssetsError(
      `${absent} not found. Looked at ${binaries.filter((b) => b.required).map((b) => b.env).join(', ')}, ` +
        `$KUBEBUILDER_ASSETS (${process.env['KUBEBUILDER_ASSETS'] ?? 'unset'}), the maestro-operator cache` +
        `${script ? '' : ' (script not found)'} and ${kubebuilderDefault}. ` +
        `Build them once with \`${script ?? 'scripts/control-plane-assets'}\` (needs Go), ` +
        'or point KUBEBUILDER_ASSETS at binaries from setup-envtest.',
    );
  }
  return {
    kubeApiServer: found.kubeApiServer,
    etcd: found.etcd,
    ...(found.kubeControllerManager ? { kubeControllerManager: found.kubeControllerManager } : {}),
    ...(found.kubectl ? { kubectl: found.kubectl } : {}),
    ...(dir ? { dir } : {}),
  };
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The root of the maestro-operator package: the nearest folder above this module with a
 * package.json named maestro-operator (lib/testing in a clone, dist/lib/testing when built).
 */
export function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'maestro-operator') return dir;
      } catch { /* not JSON: keep looking */ }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function assetsScript(): string | undefined {
  const root = packageRoot();
  const script = root && join(root, 'scripts', 'control-plane-assets');
  return script && existsSync(script) ? script : undefined;
}

/**
 * Runs the assets script with bash and returns the last line of its stdout (the folder).
 * Its stderr (progress) goes to `log` when given, else is kept for the error message.
 */
function runScript(script: string, args: string[], log?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const stderr: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (log) log(line);
      else stderr.push(line);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const folder = stdout.trim().split('\n').at(-1);
      if (code === 0 && folder) resolve(folder);
      else reject(new Error(`${script} ${args.join(' ')} exited with code ${code}${stderr.length ? `: ${stderr.slice(-5).join('\n')}` : ''}`));
    });
  });
}
