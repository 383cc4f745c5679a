/**
 * `maestro-operator/testing`: a real local control plane for integration tests, the
 * TypeScript counterpart of controller-runtime's envtest. It runs etcd and kube-apiserver
 * (and optionally kube-controller-manager) from envtest-compatible binaries, with a
 * throw-away CA for admin and per-test user identities.
 *
 * @example
 * ```ts
 * import { startControlPlane } from 'maestro-operator/testing';
 * const plane = await startControlPlane();
 * after(() => plane.stop());
 * ```
 *
 * @module
 */
export { startControlPlane } from './control-plane.js';
export type { ControlPlane, ControlPlaneOptions } from './control-plane.js';
export { controlPlaneAssets } from './assets.js';
export type { ControlPlaneAssets, ControlPlaneAssetsOptions } from './assets.js';
export type { CRDSource } from './crds.js';
export { eventually } from './eventually.js';
export type { EventuallyOptions } from './eventually.js';
export {
  ControlPlaneAssetsError, ControlPlaneStartError, ControlPlaneStoppedError, CRDInstallError, WaitTimeoutError,
} from './errors.js';
export type { ControlPlaneComponent } from './errors.js';
export type { ObjectSource } from './objects.js';
export type { ControlPlaneBinary } from './build.js';
