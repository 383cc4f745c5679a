// Mocha root hook plugin (loaded through .mocharc.json `require`).
import 'reflect-metadata';
import { prepareControlPlaneAssets, stopSharedControlPlane } from './support/control-plane.js';

export const mochaHooks = {};

/** Before any test: make sure the control plane binaries exist (building them once, with progress). */
export async function mochaGlobalSetup(): Promise<void> {
  await prepareControlPlaneAssets();
}

/** After the run: stop the shared control plane, if a test started it. */
export async function mochaGlobalTeardown(): Promise<void> {
  await stopSharedControlPlane();
}
