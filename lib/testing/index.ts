/**
 * `maestro-operator/testing`: a real local control plane for integration tests, the
 * TypeScript counterpart of controller-runtime's envtest. It runs etcd and kube-apiserver
 * (and optionally kube-controller-manager) from envtest-compatible binaries, with a
 * throw-away CA for admin and per-test user identities. Fault tools: a TCP proxy that
 * black-holes or cuts connections ({@link startFaultProxy}), operators in child processes
 * ({@link startOperatorProcess}), the API server's audit log for counting requests
 * ({@link createApiServerAudit}) and kubectl ({@link runKubectl}).
 * For unit tests without a cluster: {@link FakeClient} (an in-memory client) and
 * {@link reconcileOnce} (one reconcile through the operator's pipeline on it).
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
export { startFaultProxy, FaultProxy, FaultProxyError } from './fault-proxy.js';
export type { CutMode, FaultMode, FaultProxyOptions, FaultProxyStats, ProxyConnection } from './fault-proxy.js';
export { startOperatorProcess, OperatorProcess, OperatorProcessExitedError } from './operator-process.js';
export type { LogMatch, OperatorExit, OperatorLogLine, OperatorProcessOptions } from './operator-process.js';
export { createApiServerAudit, ApiServerAudit } from './audit.js';
export type { AuditEvent, AuditFilter } from './audit.js';
export { runKubectl, KubectlError } from './kubectl.js';
export type { KubectlOptions, KubectlResult } from './kubectl.js';
export { FakeClient } from './fake-client.js';
export type { FakeAction, FakeClientOptions, FakeInterceptor } from './fake-client.js';
export { reconcileOnce } from './reconcile-once.js';
export type { ReconcileOnceOptions, ReconcileOnceResult, RecordedEvent } from './reconcile-once.js';
export type { ObjectSource } from './objects.js';
export type { ControlPlaneBinary } from './build.js';
export { installWebhooks } from './webhooks.js';
export type { InstalledWebhooks, WebhookInstallOptions } from './webhooks.js';
