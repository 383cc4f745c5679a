import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CoreV1Api, type KubeConfig, type V1CustomResourceDefinition, type V1Taint } from '@kubernetes/client-node';
import { apiServerCommand, apiServerReady, apiServerUrl } from './apiserver.js';
import { controlPlaneAssets, type ControlPlaneAssets, type ControlPlaneBinary } from './assets.js';
import { controllerManagerCommand, controllerManagerHealthy } from './controller-manager.js';
import { installCRDs, type CRDSource } from './crds.js';
import {
  ControlPlaneAssetsError, ControlPlaneStartError, ControlPlaneStoppedError, WaitTimeoutError,
} from './errors.js';
import { compactEtcdTo, etcdCommand, etcdHealthy, etcdUrl, type EtcdConfig } from './etcd.js';
import type { ProbeTls } from './http.js';
import { clientCertKubeConfig, writeKubeConfigFile } from './kubeconfig.js';
import { CertificateAuthority, serviceAccountKeyPair } from './pki.js';
import { kwokCommand, kwokNode, kwokStages } from './kwok.js';
import { ComponentProcess, freePorts, trackDir, untrackDir, type Exit } from './process.js';
import { schedulerCommand, schedulerHealthy } from './scheduler.js';
import { waitFor } from './wait.js';

/**
 * Options of {@link startControlPlane}.
 *
 * @example
 * ```ts
 * await startControlPlane({ controllerManager: true, log: (line) => console.error(line) });
 * await startControlPlane({ nodes: 2 }); // Pods run: Deployments become Available
 * await startControlPlane({ watchCache: false, apiServerFlags: { 'feature-gates': 'SomeGate=true' } });
 * ```
 */
export interface ControlPlaneOptions {
  /**
   * Also run kube-controller-manager: garbage collection of owned objects, the
   * Deployment → ReplicaSet → Pod controllers, namespace deletion. Default false, or
   * true when `nodes` is set.
   */
  controllerManager?: boolean;
  /**
   * Simulated nodes that run Pods: kube-scheduler binds Pods to `nodes` fake Nodes
   * (`node-1`, `node-2`, …; 32 CPUs, 256 GiB, 110 Pods each) that kwok keeps Ready, and a
   * bound Pod becomes Running and Ready at once (no container runs). So Deployments become
   * Available, ReplicaSets roll and a deleted Pod is replaced, as on a real cluster.
   * Default 0: Pods stay Pending.
   */
  nodes?: number;
  /**
   * CRDs to install as soon as the API server is ready, before the controller manager
   * starts (envtest's `CRDs`): its garbage collector then knows their kinds from the start,
   * whereas kinds added later are only discovered every 30 s, so children of a custom
   * resource would wait up to that long to be collected. Same forms as {@link ControlPlane.installCRDs}.
   */
  crds?: readonly CRDSource[];
  /** Deadline for the whole start (and for each later wait, such as a restart). Default 60000. */
  startTimeoutMs?: number;
  /**
   * Keep the API server's watch cache (its in-memory recent history, as in production).
   * Default true. With false every list and watch reads etcd, so {@link ControlPlane.compactEtcd}
   * makes any older resourceVersion answer 410 Gone at once.
   */
  watchCache?: boolean;
  /** Extra kube-apiserver flags, without the leading `--`; they replace defaults of the same name. */
  apiServerFlags?: Record<string, string>;
  /** Receives progress lines (each component's start-up time). Default: nothing. */
  log?: (line: string) => void;
  /**
   * Binaries to use. Default: {@link controlPlaneAssets} for the components asked for,
   * which builds those missing (once per machine, with progress on stderr).
   */
  assets?: ControlPlaneAssets;
}

/**
 * A running local control plane: etcd and kube-apiserver (and optionally
 * kube-controller-manager) on loopback ports, with a throw-away CA whose client
 * certificates authenticate any user. Always `stop()` it (in an `after` hook); if the
 * process exits or is killed first, its components die with it.
 *
 * @example
 * ```ts
 * const ns = await plane.createNamespace('widgets');
 * await plane.installCRDs(['config/crd/widgets.yaml']);
 * const alice = (await plane.userKubeConfig('alice', ['team-a'])).makeApiClient(CoreV1Api);
 * execFileSync('kubectl', ['--kubeconfig', plane.kubeconfigPath, 'get', 'ns']);
 * ```
 */
export interface ControlPlane {
  /** An admin (user `admin`, group `system:masters`), ready for client-node's `makeApiClient`. */
  readonly kubeConfig: KubeConfig;
  /** The admin's kubeconfig file, for `kubectl --kubeconfig <path>`. */
  readonly kubeconfigPath: string;
  /** The API server's URL, `https://127.0.0.1:<port>`. */
  readonly server: string;
  /** The temporary folder holding certificates, etcd's data and the logs (`logs/<component>.log`). */
  readonly dir: string;
  /** The binaries in use. */
  readonly assets: ControlPlaneAssets;
  /** How long `startControlPlane` took, in milliseconds. */
  readonly startupMs: number;
  /** The simulated nodes' names (empty without `nodes`). */
  readonly nodes: readonly string[];

  /**
   * Creates or replaces CRDs (objects, or paths of YAML files with one or more documents),
   * then waits until each is Established and served by discovery.
   *
   * @throws {CRDInstallError} for input that is not a CRD, or names the server rejects.
   * @throws {WaitTimeoutError} if a CRD is not usable by the deadline.
   */
  installCRDs(crds: readonly CRDSource[]): Promise<V1CustomResourceDefinition[]>;
  /** Creates a namespace with a unique name starting with `prefix` (default `test`) and returns the name. */
  createNamespace(prefix?: string): Promise<string>;
  /**
   * A non-admin identity: a kubeconfig with a fresh client certificate for user `name` in
   * `groups` (plus `system:authenticated`). Asynchronous because signing is (WebCrypto).
   * It can do nothing until RBAC grants it something.
   */
  userKubeConfig(name: string, groups?: readonly string[]): Promise<KubeConfig>;
  /** Writes `kc` to a kubeconfig file (default: a new file in `dir`) and returns its path. */
  writeKubeconfig(kc: KubeConfig, path?: string): Promise<string>;
  /** Stops only the API server (etcd keeps the data); for fault tests. */
  stopAPIServer(): Promise<void>;
  /** Starts the API server again on the same port with the same certificates; resolves when it is ready. */
  startAPIServer(): Promise<void>;
  /** `stopAPIServer()` then `startAPIServer()`. */
  restartAPIServer(): Promise<void>;
  /**
   * Compacts etcd (through its JSON gateway) so that only the latest version of each
   * object remains: a watch from any resourceVersion older than the newest one then fails
   * with 410 Gone, while a watch from the newest one goes on. Resolves with the revision
   * compacted to.
   *
   * The API server's watch cache keeps serving recent history from memory whatever etcd
   * holds: to see 410 right after compacting, start the plane with `watchCache: false`.
   * (With the cache on, an API server restart makes every earlier resourceVersion too old.)
   */
  compactEtcd(): Promise<number>;
  /** Stops every component (SIGTERM, then SIGKILL after a grace period) and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a local control plane the way controller-runtime's envtest does, and resolves
 * once the API server is ready (`/readyz` and namespace `default`) and, if asked, the
 * controller manager is healthy.
 *
 * @throws {ControlPlaneAssetsError} if the binaries cannot be found.
 * @throws {ControlPlaneStartError} if a component exits or is not ready in time, with its
 *   command line and the tail of its log.
 * @example
 * ```ts
 * const plane = await startControlPlane({ controllerManager: true });
 * try {
 *   const core = plane.kubeConfig.makeApiClient(CoreV1Api);
 *   const ns = await plane.createNamespace('demo');
 *   await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } });
 * } finally {
 *   await plane.stop();
 * }
 * ```
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const began = performance.now();
  const nodes = options.nodes ?? 0;
  if (!Number.isInteger(nodes) || nodes < 0) throw new RangeError(`nodes must be a whole number >= 0, got ${nodes}`);
  const controllerManager = options.controllerManager ?? nodes > 0;
  const binaries: ControlPlaneBinary[] = [
    ...(controllerManager ? ['kube-controller-manager' as const] : []),
    ...(nodes > 0 ? ['kube-scheduler' as const, 'kwok' as const] : []),
  ];
  const assets = options.assets ?? (await controlPlaneAssets({ binaries }));
  const keys: Record<string, keyof ControlPlaneAssets> = { 'kube-controller-manager': 'kubeControllerManager', 'kube-scheduler': 'kubeScheduler', 'kwok': 'kwok' };
  const absent = binaries.filter((b) => !assets[keys[b]!]);
  if (absent.length > 0) {
    throw new ControlPlaneAssetsError(
      `${absent.join(' and ')} ${absent.length > 1 ? 'were' : 'was'} needed (${nodes > 0 ? `nodes: ${nodes}` : 'controllerManager: true'}) but not found in the given assets ` +
        `(set ${absent.map((b) => `TEST_ASSET_${b.toUpperCase().replace(/-/g, '_')}`).join(', ')}, or leave out \`assets\` to have them found or built)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'maestro-envtest-'));
  trackDir(dir);
  const plane = new LocalControlPlane(dir, assets, { ...options, controllerManager, nodes });
  try {
    await plane.boot(began);
  } catch (err) {
    await plane.stop();
    throw err;
  }
  return plane;
}

/** How many times a component is started on fresh ports when its port was taken meanwhile. */
const portAttempts = 3;

class LocalControlPlane implements ControlPlane {
  kubeConfig!: KubeConfig;
  kubeconfigPath!: string;
  server!: string;
  startupMs = 0;
  nodes: readonly string[] = [];

  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;
  private readonly components: ComponentProcess[] = [];
  private ca!: CertificateAuthority;
  private admin!: ProbeTls;
  private etcdConfig!: EtcdConfig;
  private apiServer!: ComponentProcess;
  private apiServerPort = 0;
  private stopping: Promise<void> | undefined;
  private kubeconfigCount = 0;

  constructor(
    readonly dir: string,
    readonly assets: ControlPlaneAssets,
    private readonly options: ControlPlaneOptions,
  ) {
    this.timeoutMs = options.startTimeoutMs ?? 60_000;
    this.log = options.log ?? (() => {});
  }

  /** Brings every component up; on failure the caller stops whatever did start. */
  async boot(began: number): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    const pki = join(this.dir, 'pki');
    await Promise.all(['pki', 'etcd', 'apiserver', 'logs'].map((d) => mkdir(join(this.dir, d), { recursive: true })));
    const file = (name: string): string => join(pki, name);

    // Certificates and keys (a few milliseconds; the RSA key is the slowest part).
    const [ca, sa] = await Promise.all([CertificateAuthority.create('maestro-envtest-ca'), serviceAccountKeyPair()]);
    this.ca = ca;
    const [serving, admin] = await Promise.all([
      ca.issue({
        commonName: 'kube-apiserver',
        usage: 'server',
        dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
        ipAddresses: ['127.0.0.1', '10.0.0.1'],
      }),
      ca.issue({ commonName: 'admin', organizations: ['system:masters'], usage: 'client' }),
    ]);
    this.admin = { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem };
    await Promise.all([
      writeFile(file('ca.crt'), ca.certPem),
      writeFile(file('ca.key'), ca.keyPem, { mode: 0o600 }),
      writeFile(file('apiserver.crt'), serving.certPem),
      writeFile(file('apiserver.key'), serving.keyPem, { mode: 0o600 }),
      writeFile(file('sa.pub'), sa.publicKeyPem),
      writeFile(file('sa.key'), sa.privateKeyPem, { mode: 0o600 }),
    ]);

    // etcd.
    let t = performance.now();
    await this.startWithPortRetry('etcd', 2, deadline, (ports, attempt) => {
      // A fresh data folder per attempt: a failed one may have recorded the old peer URL.
      const dataDir = join(this.dir, 'etcd', `data-${attempt}`);
      this.etcdConfig = { binary: this.assets.etcd, clientPort: ports[0]!, peerPort: ports[1]!, dataDir };
      return { command: etcdCommand(this.etcdConfig), probe: () => etcdHealthy(this.etcdConfig) };
    });
    this.log(`etcd ready in ${ms(t)} (${etcdUrl(this.etcdConfig)})`);

    // kube-apiserver.
    t = performance.now();
    const extraFlags: Record<string, string> = {
      ...(this.options.watchCache === false ? { 'watch-cache': 'false' } : {}),
      ...this.options.apiServerFlags,
    };
    this.apiServer = await this.startWithPortRetry('kube-apiserver', 1, deadline, (ports) => {
      // A caller-chosen port wins (it is then also what gets probed).
      this.apiServerPort = Number(extraFlags['secure-port'] ?? ports[0]);
      const command = apiServerCommand({
        binary: this.assets.kubeApiServer,
        port: this.apiServerPort,
        etcdUrl: etcdUrl(this.etcdConfig),
        certDir: join(this.dir, 'apiserver'),
        servingCertFile: file('apiserver.crt'),
        servingKeyFile: file('apiserver.key'),
        clientCAFile: file('ca.crt'),
        serviceAccountPublicKeyFile: file('sa.pub'),
        serviceAccountPrivateKeyFile: file('sa.key'),
        extraFlags,
      });
      return { command, probe: () => apiServerReady(this.apiServerPort, this.admin), fixedPorts: 'secure-port' in extraFlags };
    });
    this.server = apiServerUrl(this.apiServerPort);
    this.kubeConfig = clientCertKubeConfig(this.server, ca.certPem, 'admin', admin);
    this.kubeconfigPath = await writeKubeConfigFile(this.kubeConfig, join(this.dir, 'admin.kubeconfig'));
    this.log(`kube-apiserver ready in ${ms(t)} (${this.server})`);

    if (this.options.crds?.length) {
      t = performance.now();
      await installCRDs(this.kubeConfig, this.options.crds, Math.max(deadline - Date.now(), 0));
      this.log(`${this.options.crds.length} CRD source${this.options.crds.length === 1 ? '' : 's'} installed in ${ms(t)}`);
    }

    // The rest only talk to the API server: start them side by side.
    await Promise.all([
      this.options.controllerManager ? this.startControllerManager(deadline) : undefined,
      this.options.nodes ? this.startNodes(this.options.nodes, deadline) : undefined,
    ]);

    this.startupMs = Math.round(performance.now() - began);
    this.log(`control plane ready in ${this.startupMs} ms (${this.server}, ${this.dir})`);
  }

  /** A kubeconfig file for a component with its own client certificate (in system:masters: it needs every permission). */
  private async componentKubeconfig(user: string, file: string): Promise<string> {
    const client = await this.ca.issue({ commonName: user, organizations: ['system:masters'], usage: 'client' });
    return writeKubeConfigFile(clientCertKubeConfig(this.server, this.ca.certPem, user, client), join(this.dir, file));
  }

  /** A serving certificate for a component's loopback health endpoint; returns the PEM files. */
  private async servingCert(name: string): Promise<{ certFile: string; keyFile: string }> {
    const serving = await this.ca.issue({ commonName: name, usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const certFile = join(this.dir, 'pki', `${name}.crt`);
    const keyFile = join(this.dir, 'pki', `${name}.key`);
    await Promise.all([writeFile(certFile, serving.certPem), writeFile(keyFile, serving.keyPem, { mode: 0o600 })]);
    return { certFile, keyFile };
  }

  /** kube-controller-manager, with its own identity. */
  private async startControllerManager(deadline: number): Promise<void> {
    const t = performance.now();
    const pki = (name: string): string => join(this.dir, 'pki', name);
    const [kubeconfigFile, serving] = await Promise.all([
      this.componentKubeconfig('system:kube-controller-manager', 'controller-manager.kubeconfig'),
      this.servingCert('controller-manager'),
    ]);
    await this.startWithPortRetry('kube-controller-manager', 1, deadline, (ports) => ({
      command: controllerManagerCommand({
        binary: this.assets.kubeControllerManager!,
        port: ports[0]!,
        kubeconfigFile,
        servingCertFile: serving.certFile,
        servingKeyFile: serving.keyFile,
        caCertFile: pki('ca.crt'),
        caKeyFile: pki('ca.key'),
        serviceAccountPrivateKeyFile: pki('sa.key'),
      }),
      probe: () => controllerManagerHealthy(ports[0]!, this.admin),
    }));
    this.log(`kube-controller-manager ready in ${ms(t)}`);
  }

  /**
   * kube-scheduler, then kwok and `count` fake Nodes: ready when the scheduler is healthy
   * and every node is Ready (kwok initializes them).
   */
  private async startNodes(count: number, deadline: number): Promise<void> {
    const t = performance.now();
    const [schedulerKubeconfig, kwokKubeconfig, serving] = await Promise.all([
      this.componentKubeconfig('system:kube-scheduler', 'scheduler.kubeconfig'),
      this.componentKubeconfig('kwok', 'kwok.kubeconfig'),
      this.servingCert('scheduler'),
      writeFile(join(this.dir, 'kwok-stages.yaml'), kwokStages),
    ]);
    const names = Array.from({ length: count }, (_, i) => `node-${i + 1}`);
    const core = this.kubeConfig.makeApiClient(CoreV1Api);
    await Promise.all([
      this.startWithPortRetry('kube-scheduler', 1, deadline, (ports) => ({
        command: schedulerCommand({
          binary: this.assets.kubeScheduler!,
          port: ports[0]!,
          kubeconfigFile: schedulerKubeconfig,
          servingCertFile: serving.certFile,
          servingKeyFile: serving.keyFile,
        }),
        probe: () => schedulerHealthy(ports[0]!, this.admin),
      })),
      (async () => {
        await Promise.all(names.map((name) => core.createNode({ body: kwokNode(name) })));
        await this.startWithPortRetry('kwok', 0, deadline, () => ({
          command: kwokCommand({ binary: this.assets.kwok!, kubeconfigFile: kwokKubeconfig, stagesFile: join(this.dir, 'kwok-stages.yaml') }),
          probe: async () => {
            const ready = (await core.listNode({ labelSelector: 'type=kwok' })).items
              .filter((n) => names.includes(n.metadata?.name ?? '') && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
            // A new Node is tainted not-ready (admission) until the controller manager sees it
            // Ready; without a controller manager nothing would, so the plane lifts the taint.
            const pending = ready.filter((n) => (n.spec?.taints ?? []).some(isNodeConditionTaint));
            if (!this.options.controllerManager) {
              await Promise.all(pending.map((n) => core.patchNode({
                name: n.metadata!.name!,
                body: [{ op: 'replace', path: '/spec/taints', value: (n.spec?.taints ?? []).filter((t) => !isNodeConditionTaint(t)) }],
              })));
            }
            const schedulable = ready.length - pending.length;
            return { ok: schedulable === names.length, observed: `${ready.length}/${names.length} nodes Ready, ${schedulable} without not-ready taints` };
          },
        }));
      })(),
    ]);
    this.nodes = names;
    this.log(`kube-scheduler and kwok ready with ${count} node${count === 1 ? '' : 's'} in ${ms(t)}`);
  }

  /**
   * Starts a component on fresh free ports and waits for its probe; if it exits because a
   * port was taken in between (the ports are only reserved while being picked), tries again.
   */
  private async startWithPortRetry(
    name: ComponentProcess['name'],
    portCount: number,
    deadline: number,
    make: (ports: number[], attempt: number) => { command: string[]; probe: Probe; fixedPorts?: boolean },
  ): Promise<ComponentProcess> {
    for (let attempt = 1; ; attempt++) {
      const { command, probe, fixedPorts } = make(await freePorts(portCount), attempt);
      const proc = new ComponentProcess(name, command, join(this.dir, 'logs', `${name}.log`), this.dir);
      this.components.push(proc);
      proc.start();
      try {
        await awaitReady(proc, deadline, probe);
        return proc;
      } catch (err) {
        const portTaken = err instanceof ControlPlaneStartError && /address already in use/i.test(err.logTail);
        if (!portTaken || fixedPorts || attempt >= portAttempts) throw err;
        this.log(`${name}: a port was taken meanwhile; retrying on new ports`);
        await proc.stop();
      }
    }
  }

  async installCRDs(crds: readonly CRDSource[]): Promise<V1CustomResourceDefinition[]> {
    this.assertRunning('install CRDs');
    return installCRDs(this.kubeConfig, crds, this.timeoutMs);
  }

  async createNamespace(prefix = 'test'): Promise<string> {
    this.assertRunning('create a namespace');
    // generateName: the server picks a unique suffix, so parallel callers never collide.
    const ns = await this.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { generateName: `${prefix}-` } } });
    return ns.metadata!.name!;
  }

  async userKubeConfig(name: string, groups: readonly string[] = []): Promise<KubeConfig> {
    this.assertRunning('mint a user');
    const cert = await this.ca.issue({ commonName: name, organizations: groups, usage: 'client' });
    return clientCertKubeConfig(this.server, this.ca.certPem, name, cert);
  }

  async writeKubeconfig(kc: KubeConfig, path?: string): Promise<string> {
    const user = (kc.getCurrentUser()?.name ?? 'user').replace(/[^\w.-]+/g, '_');
    return writeKubeConfigFile(kc, path ?? join(this.dir, `${user}-${++this.kubeconfigCount}.kubeconfig`));
  }

  async stopAPIServer(): Promise<void> {
    this.assertRunning('stop the API server');
    const t = performance.now();
    await this.apiServer.stop();
    this.log(`kube-apiserver stopped in ${ms(t)}`);
  }

  async startAPIServer(): Promise<void> {
    this.assertRunning('start the API server');
    if (this.apiServer.running) return;
    const t = performance.now();
    this.apiServer.start();
    await awaitReady(this.apiServer, Date.now() + this.timeoutMs, () => apiServerReady(this.apiServerPort, this.admin));
    this.log(`kube-apiserver restarted in ${ms(t)}`);
  }

  async restartAPIServer(): Promise<void> {
    await this.stopAPIServer();
    await this.startAPIServer();
  }

  async compactEtcd(): Promise<number> {
    this.assertRunning('compact etcd');
    return compactEtcdTo(this.etcdConfig);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Clients first: etcd's graceful stop waits for the API server's open watch streams.
      const etcd = this.components.filter((c) => c.name === 'etcd');
      await Promise.all(this.components.filter((c) => c.name !== 'etcd').map((c) => c.stop()));
      await Promise.all(etcd.map((c) => c.stop()));
      await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
      untrackDir(this.dir);
    })();
    return this.stopping;
  }

  private assertRunning(operation: string): void {
    if (this.stopping) throw new ControlPlaneStoppedError(operation);
  }
}

type Probe = () => Promise<{ ok: boolean; observed: string }>;

/** The taints Kubernetes puts on a Node for its conditions (not-ready, unreachable, ...), none of which a Ready kwok node keeps. */
const isNodeConditionTaint = (taint: V1Taint): boolean => taint.key.startsWith('node.kubernetes.io/');

/**
 * Polls `probe` until it passes. Fails fast with the component's log if the process
 * exits, and with the log and last observation at the deadline.
 */
async function awaitReady(proc: ComponentProcess, deadline: number, probe: Probe): Promise<void> {
  const exited = proc.exited.then((exit): never => {
    throw new ControlPlaneStartError(proc.name, describeExit(exit), proc.command, proc.logTail());
  });
  exited.catch(() => { /* observed through the race below, or not at all once ready */ });
  const timeoutMs = Math.max(deadline - Date.now(), 0);
  try {
    await waitFor(`${proc.name} ready`, timeoutMs, async () => {
      const result = await probe();
      return result.ok ? { done: true, value: undefined } : { done: false, observed: result.observed };
    }, { abort: exited, fatal: (err) => err instanceof ControlPlaneStartError });
  } catch (err) {
    if (err instanceof WaitTimeoutError) {
      throw new ControlPlaneStartError(
        proc.name,
        `not ready after ${timeoutMs} ms${err.lastObserved ? ` (last observed: ${err.lastObserved})` : ''}`,
        proc.command,
        proc.logTail(),
        { cause: err },
      );
    }
    throw err;
  }
}

function describeExit(exit: Exit): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return exit.code === null ? 'could not be spawned' : `exited with code ${exit.code}`;
}

function ms(since: number): string {
  return `${Math.round(performance.now() - since)} ms`;
}
