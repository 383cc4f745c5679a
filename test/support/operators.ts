// Starting operators under test against a control plane, and reading their objects.
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createOperator, type Operator, type OperatorOptions } from '../../lib/index.js';
import type { Condition } from '../../lib/index.js';
import { eventually } from './wait.js';
import type { Widget } from './widget-operator.js';

const running = new Set<Operator>();

/** A test logger: silent unless MAESTRO_TEST_LOG is set. */
export const testLogger = () => pino({ level: process.env['MAESTRO_TEST_LOG'] ? 'debug' : 'silent' });

/** Metrics over plain HTTP (scraped without a token) and probes, on free loopback ports. */
export const testServer = { secure: false, metricsPort: 0, probePort: 0, host: '127.0.0.1' } as const;

/** Starts an operator for a test (no signal handlers; {@link testServer} unless `options.server` says otherwise). */
export async function startOperator(kubeConfig: KubeConfig, options: OperatorOptions): Promise<Operator> {
  const operator = createOperator({ kubeConfig, server: testServer, logger: testLogger(), gracefulShutdownMs: 10_000, ...options });
  running.add(operator);
  await operator.start({ handleSignals: false });
  return operator;
}

/** Stops every operator a test started (call in afterEach). */
export async function stopOperators(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((o) => o.stop()));
}

/** Reads and writes Widgets through client-node's generic API (not the operator's client or cache). */
export class Widgets {
  readonly api: KubernetesObjectApi;
  readonly core: CoreV1Api;
  constructor(kubeConfig: KubeConfig, readonly namespace: string) {
    this.api = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }
  private ref(name: string) {
    return { apiVersion: 'it.maestro.dev/v1', kind: 'Widget', metadata: { name, namespace: this.namespace } };
  }
  async create(widget: Widget): Promise<Widget> {
    return this.api.create<Widget>(widget);
  }
  async get(name: string): Promise<Widget> {
    return this.api.read<Widget>(this.ref(name));
  }
  async patchSpec(name: string, spec: Partial<Widget['spec']>): Promise<Widget> {
    return this.api.patch<Widget>({ ...this.ref(name), spec } as Widget, undefined, undefined, 'test', undefined, PatchStrategy.MergePatch);
  }
  async delete(name: string): Promise<void> {
    await this.api.delete(this.ref(name));
  }
  ready(widget: Widget): Condition | undefined {
    return widget.status?.conditions?.find((c) => c.type === 'Ready');
  }
  /** Waits until the widget is Ready=True for its current generation. */
  async waitReady(name: string, timeoutMs = 30_000): Promise<Widget> {
    return eventually(async () => {
      const w = await this.get(name);
      const ready = this.ready(w);
      return ready?.status === 'True' && ready.observedGeneration === w.metadata?.generation ? w : undefined;
    }, { timeoutMs, message: `widget ${this.namespace}/${name} Ready` });
  }
}
