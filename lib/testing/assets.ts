import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../errors/index.js';
import {
  allBinaries, buildControlPlane, cacheDir, cachedBinaries, readVersions, toolsDir, type ControlPlaneBinary,
} from './build.js';
import { ControlPlaneAssetsError } from './errors.js';

export type { ControlPlaneBinary } from './build.js';

/**
 * Where the control plane's binaries are. Only the API server and etcd are always
 * there; the others when they were asked for (or happened to be found).
 *
 * @example
 * ```ts
 * const assets = await controlPlaneAssets({ binaries: ['kube-apiserver', 'etcd', 'kubectl'] });
 * execFileSync(assets.kubectl!, ['version', '--client']);
 * ```
 */
export interface ControlPlaneAssets {
  kubeApiServer: string;
  etcd: string;
  kubeControllerManager?: string;
  kubeScheduler?: string;
  kwok?: string;
  kubectl?: string;
  /** The folder the API server came from, when it came from one (KUBEBUILDER_ASSETS or the cache). */
  dir?: string;
}

/**
 * Options of {@link controlPlaneAssets}.
 *
 * @example
 * ```ts
 * await controlPlaneAssets({ binaries: ['kube-apiserver', 'etcd', 'kube-controller-manager'], log: (line) => console.error(line) });
 * ```
 */
export interface ControlPlaneAssetsOptions {
  /**
   * The binaries that must be there. Default `['kube-apiserver', 'etcd']`; others found
   * along the way are returned too.
   */
  binaries?: readonly ControlPlaneBinary[];
  /**
   * Build the binaries that are nowhere to be found from Go modules, into Maestro's cache
   * (once per machine: about 10 minutes for everything on 2 cores with cold Go caches, a
   * minute or two when Go's caches are warm). Needs Go and the Go module proxy. Default true.
   */
  build?: boolean;
  /** Receives the build's progress lines. Default: stderr (one status line redrawn in place on a terminal). */
  log?: (line: string) => void;
}

type AssetKey = Exclude<keyof ControlPlaneAssets, 'dir'>;

const lookup: Record<ControlPlaneBinary, { key: AssetKey; env: string }> = {
  'kube-apiserver': { key: 'kubeApiServer', env: 'TEST_ASSET_KUBE_APISERVER' },
  'etcd': { key: 'etcd', env: 'TEST_ASSET_ETCD' },
  'kube-controller-manager': { key: 'kubeControllerManager', env: 'TEST_ASSET_KUBE_CONTROLLER_MANAGER' },
  'kube-scheduler': { key: 'kubeScheduler', env: 'TEST_ASSET_KUBE_SCHEDULER' },
  'kwok': { key: 'kwok', env: 'TEST_ASSET_KWOK' },
  'kubectl': { key: 'kubectl', env: 'TEST_ASSET_KUBECTL' },
};

/** controller-runtime's envtest default folder, honoured after our own cache. */
const kubebuilderDefault = '/usr/local/kubebuilder/bin';

/** The command that builds every binary into the cache and prints the folder. */
export const envtestCommand = 'npx maestro-operator envtest';

/**
 * Finds the control plane's binaries the way controller-runtime's envtest does, so
 * binaries from `setup-envtest` work unchanged, and builds the missing ones. For each
 * binary, in order:
 * 1. `TEST_ASSET_KUBE_APISERVER`, `TEST_ASSET_ETCD`, `TEST_ASSET_KUBE_CONTROLLER_MANAGER`,
 *    `TEST_ASSET_KUBE_SCHEDULER`, `TEST_ASSET_KWOK`, `TEST_ASSET_KUBECTL` (the binary itself);
 * 2. `$KUBEBUILDER_ASSETS/<name>`;
 * 3. Maestro's cache (`$MAESTRO_CACHE_DIR`, default `~/.cache/maestro-operator`), as
 *    printed by `maestro-operator envtest`;
 * 4. `/usr/local/kubebuilder/bin/<name>`;
 * 5. unless `build: false`, the cache after building what is still missing of `binaries`
 *    (with a progress display; see {@link ControlPlaneAssetsOptions.build}).
 *
 * Every entry point (`npm test`, `npm run demo`, `npm run bench`, `startControlPlane()`,
 * `maestro-operator envtest`) comes through here.
 *
 * @throws {ControlPlaneAssetsError} when a needed binary cannot be found or built (the
 *   message says what to install, e.g. Go), or a `TEST_ASSET_*` variable names a file that
 *   is not executable.
 * @example
 * ```ts
 * const assets = await controlPlaneAssets({ binaries: ['kube-apiserver', 'etcd', 'kube-scheduler', 'kwok'] });
 * assets.kwok; // '/root/.cache/maestro-operator/control-plane/kubernetes-v1.36.3-etcd-v3.6.16/kwok'
 * ```
 */
export async function controlPlaneAssets(options: ControlPlaneAssetsOptions = {}): Promise<ControlPlaneAssets> {
  const required = new Set<ControlPlaneBinary>(['kube-apiserver', 'etcd', ...(options.binaries ?? [])]);
  const found: Partial<Record<ControlPlaneBinary, string>> = {};
  let dir: string | undefined;
  for (const binary of allBinaries) {
    const fromEnv = process.env[lookup[binary].env];
    if (!fromEnv) continue;
    if (!(await isExecutable(fromEnv))) throw new ControlPlaneAssetsError(`${lookup[binary].env}=${fromEnv} is not an executable file`);
    found[binary] = fromEnv;
  }
  const fill = async (folder: string | undefined, only?: Set<ControlPlaneBinary>): Promise<void> => {
    if (!folder) return;
    for (const binary of allBinaries) {
      if (found[binary] || (only && !only.has(binary))) continue;
      const path = join(folder, binary);
      if (await isExecutable(path)) {
        found[binary] = path;
        if (binary === 'kube-apiserver') dir = folder;
      }
    }
  };
  const missing = (): ControlPlaneBinary[] => allBinaries.filter((b) => required.has(b) && !found[b]);

  await fill(process.env['KUBEBUILDER_ASSETS']);
  const tools = toolsDir();
  const versions = tools ? readVersions(tools) : undefined;
  const cache = versions && cacheDir(versions);
  if (cache && versions) await fill(cache, await cachedBinaries(cache, versions));
  await fill(kubebuilderDefault);
  if (missing().length > 0 && options.build !== false && cache && versions) {
    try {
      await buildControlPlane(missing(), options.log ? { log: options.log } : {});
    } catch (err) {
      if (err instanceof ControlPlaneAssetsError) throw err;
      throw new ControlPlaneAssetsError(`building the control plane binaries failed: ${describeError(err)}`, { cause: err });
    }
    await fill(cache, await cachedBinaries(cache, versions));
  }
  const absent = missing();
  if (absent.length > 0) {
    throw new ControlPlaneAssetsError(
      `${absent.join(' and ')} not found. Looked at ${absent.map((b) => lookup[b].env).join(', ')}, ` +
        `$KUBEBUILDER_ASSETS (${process.env['KUBEBUILDER_ASSETS'] ?? 'unset'}), ` +
        `${cache ? `Maestro's cache (${cache})` : "Maestro's cache (tools/control-plane is not in this installation)"} and ${kubebuilderDefault}. ` +
        `${options.build === false ? `Build them once with \`${envtestCommand}\` (needs Go), or point` : 'Point'} KUBEBUILDER_ASSETS at binaries from setup-envtest.`,
    );
  }
  const assets: ControlPlaneAssets = { kubeApiServer: found['kube-apiserver']!, etcd: found['etcd']! };
  for (const binary of allBinaries) {
    const path = found[binary];
    if (path) assets[lookup[binary].key] = path;
  }
  if (dir) assets.dir = dir;
  return assets;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
