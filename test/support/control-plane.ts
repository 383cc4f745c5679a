// One local control plane shared by every integration test of a mocha run.
import { allBinaries } from '../../lib/testing/build.js';
import {
  controlPlaneAssets, startControlPlane, type ControlPlane, type ControlPlaneAssets,
} from '../../lib/testing/index.js';

let assets: Promise<ControlPlaneAssets> | undefined;
let shared: Promise<ControlPlane> | undefined;

/** Prints progress to stderr with a prefix, when MAESTRO_TEST_LOG is set or while building. */
const progress = (line: string): void => {
  process.stderr.write(`[control-plane] ${line}\n`);
};
const verbose = Boolean(process.env['MAESTRO_TEST_LOG']);

/**
 * Resolves every control plane binary (kubectl included: some tests run it), building the
 * missing ones with the one progress display every entry point shows (about 10 minutes
 * once per machine with cold Go caches), so no test timeout covers the build. Called by
 * the root hooks' `mochaGlobalSetup`. Set MAESTRO_CONTROL_PLANE_BUILD=0 to never build.
 * A failure is remembered, not thrown: unit tests still run, integration tests fail with it.
 *
 * @example
 * ```ts
 * export async function mochaGlobalSetup() { await prepareControlPlaneAssets(); }
 * ```
 */
export async function prepareControlPlaneAssets(): Promise<void> {
  const build = process.env['MAESTRO_CONTROL_PLANE_BUILD'] !== '0';
  assets = controlPlaneAssets({ build, binaries: allBinaries });
  try {
    const found = await assets;
    if (verbose) progress(`binaries: ${found.dir ?? found.kubeApiServer}`);
  } catch (err) {
    progress(`control plane binaries unavailable; integration tests will fail: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The run's shared control plane, with the controller manager and 2 simulated nodes (Pods
 * run, Deployments become Available): started on the first
 * call, reused afterwards, stopped by the root hooks' `mochaGlobalTeardown`. A failed
 * start is not retried: every caller gets the same error at once.
 *
 * @example
 * ```ts
 * let plane: ControlPlane;
 * before(async () => { plane = await sharedControlPlane(); });
 * ```
 */
export function sharedControlPlane(): Promise<ControlPlane> {
  shared ??= (async () => {
    const resolved = await (assets ?? controlPlaneAssets());
    const plane = await startControlPlane({ controllerManager: true, nodes: 2, assets: resolved, ...(verbose ? { log: progress } : {}) });
    if (verbose) progress(`shared control plane up in ${plane.startupMs} ms`);
    return plane;
  })();
  return shared;
}

/**
 * A fresh namespace on the shared control plane, unique to the caller.
 *
 * @example
 * ```ts
 * const ns = await testNamespace('widgets');
 * ```
 */
export async function testNamespace(prefix = 'test'): Promise<string> {
  return (await sharedControlPlane()).createNamespace(prefix);
}

/** Stops the shared control plane if one was started (idempotent). */
export async function stopSharedControlPlane(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (!current) return;
  const plane = await current.catch(() => undefined);
  await plane?.stop();
}
