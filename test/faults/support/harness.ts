// What the fault scenarios share: one control plane with an audit log, replicas of the
// fault operator run as processes (restarted like a Deployment's pod when they exit on
// their own), raw API access that copes with any object, reading reconcile intervals from
// the processes' output, and the one-line count reports.
import { appendFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  createApiServerAudit, eventually, startControlPlane, startOperatorProcess,
  type ApiServerAudit, type ControlPlane, type OperatorProcess,
} from '../../../lib/testing/index.js';
import { faultCRDs } from './task-operator.js';

const verbose = Boolean(process.env['MAESTRO_TEST_LOG']);

/** A scenario's parameter (a fault's duration in ms, a count...): from the environment, else the issue's value. */
export function faultParameter(variable: string, issueValue: number): number {
  const value = Number(process.env[variable]);
  return Number.isFinite(value) && value > 0 ? value : issueValue;
}

interface FaultsPlane {
  plane: ControlPlane;
  audit: ApiServerAudit;
}

let shared: Promise<FaultsPlane> | undefined;

/** The suite's control plane (API server with an audit log, the fault CRDs installed), started on first use. */
export function faultsPlane(): Promise<FaultsPlane> {
  shared ??= (async () => {
    const audit = await createApiServerAudit();
    const plane = await startControlPlane({ apiServerFlags: { ...audit.apiServerFlags }, ...(verbose ? { log: (l: string) => process.stderr.write(`[faults plane] ${l}\n`) } : {}) });
    await plane.installCRDs(faultCRDs());
    return { plane, audit };
  })();
  return shared;
}

// A root-level hook (registered while mocha loads the spec files): the plane outlives every scenario.
after(async () => {
  const current = shared;
  shared = undefined;
  const value = await current?.catch(() => undefined);
  await value?.plane.stop();
  await value?.audit.remove();
});

/** Prints a scenario's counts as one greppable line (and appends it as JSON to MAESTRO_FAULT_REPORT, if set). */
export function report(scenario: string, counts: Record<string, unknown>): void {
  const text = Object.entries(counts).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  process.stderr.write(`      FAULT-COUNTS ${scenario}: ${text}\n`);
  const file = process.env['MAESTRO_FAULT_REPORT'];
  if (file) appendFileSync(file, `${JSON.stringify({ scenario, at: new Date().toISOString(), ...counts })}\n`);
}

const main = fileURLToPath(new URL('./fault-operator-main.js', import.meta.url));

/** A fixture line (`fx` field) from a fault operator process, with the process it came from. */
export interface FixtureLine {
  fx: string;
  at: number;
  key?: string;
  rid?: string;
  proc: string;
  [field: string]: unknown;
}

/**
 * One replica of the fault operator, like a pod of a Deployment: its process is
 * restarted (with a new identity) when it exits on its own, and not when the test stops
 * or kills it. Every process it ran is kept, with its output.
 */
export class Replica {
  readonly processes: OperatorProcess[] = [];
  #deliberate = new Set<OperatorProcess>();
  #stopped = false;
  #restarting: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly kubeConfig: KubeConfig,
    private readonly env: Record<string, string>,
    private readonly options: { restart?: boolean } = {},
  ) {}

  /** The process running now (the latest). */
  get current(): OperatorProcess {
    const proc = this.processes.at(-1);
    if (!proc) throw new Error(`replica ${this.name} was never started`);
    return proc;
  }

  /** Processes that exited on their own (crashes, or exits chosen by the runtime). */
  get unplannedExits(): number {
    return this.processes.filter((p) => p.exit && !this.#deliberate.has(p)).length;
  }

  /** How each unplanned exit ended (`<process>:<code or signal>`). */
  get unplannedExitCodes(): string[] {
    return this.processes.filter((p) => p.exit && !this.#deliberate.has(p)).map((p) => `${p.name}:${p.exit!.signal ?? p.exit!.code}`);
  }

  /** Starts a process (generation n gets identity `<name>-<n>`). */
  async start(): Promise<OperatorProcess> {
    const generation = this.processes.length + 1;
    const proc = await startOperatorProcess({
      module: main,
      name: `${this.name}-${generation}`,
      kubeConfig: this.kubeConfig,
      env: { LOG_LEVEL: 'info', FAULT_IDENTITY: `${this.name}-${generation}`, ...this.env },
      ...(verbose ? { onLine: (l) => process.stderr.write(`[${this.name}-${generation}] ${l.text.slice(0, 400)}\n`) } : {}),
    });
    this.processes.push(proc);
    void proc.exited.then(() => {
      if (this.#stopped || this.#deliberate.has(proc) || !this.options.restart) return;
      // Like the kubelet's crash-loop back-off (10 s doubling), scaled down: 0.5 s doubling to 8 s.
      const restarts = this.unplannedExits;
      this.#restarting = delay(Math.min(500 * 2 ** (restarts - 1), 8_000))
        .then(() => (this.#stopped ? undefined : this.start()))
        .then(() => undefined, () => undefined);
    });
    return proc;
  }

  /** Waits for the current process's `ready` line (start() resolved). */
  async ready(timeoutMs = 60_000): Promise<Readonly<Record<string, unknown>>> {
    return this.current.waitForLog({ fx: 'ready' }, { timeoutMs });
  }

  /** Sends a signal to the current process; it will not be restarted. */
  kill(signal: NodeJS.Signals): void {
    this.#deliberate.add(this.current);
    this.current.kill(signal);
  }

  /** Stops every process (SIGTERM, SIGKILL after `graceMs`); none is restarted. */
  async stop(graceMs = 15_000): Promise<void> {
    this.#stopped = true;
    await this.#restarting;
    for (const p of this.processes) this.#deliberate.add(p);
    await Promise.all(this.processes.map((p) => p.stop(graceMs)));
  }

  /** The fixture lines of every process, in order of their time. */
  lines(fx?: string): FixtureLine[] {
    const all: FixtureLine[] = [];
    for (const proc of this.processes) {
      for (const json of proc.logs((l) => typeof l['fx'] === 'string' && (!fx || l['fx'] === fx))) {
        all.push({ ...(json as unknown as FixtureLine), proc: proc.name });
      }
    }
    return all.sort((a, b) => a.at - b.at);
  }
}

/** One reconcile as seen from its process: start, end (if it ended), abort (if its context was cancelled). */
export interface Interval {
  proc: string;
  key: string;
  rid: string;
  start: number;
  /** When it ended: its end line, else the exit of its process, else Infinity (still running). */
  end: number;
  ended: boolean;
  abortAt?: number;
  outcome?: string;
  /** Whether the operator said it led when the reconcile started (`isLeader`). */
  leading?: boolean;
}

/** Rebuilds every reconcile interval from the replicas' output. */
export function intervals(replicas: readonly Replica[]): Interval[] {
  const result: Interval[] = [];
  for (const replica of replicas) {
    for (const proc of replica.processes) {
      const byRid = new Map<string, Interval>();
      for (const line of proc.logs((l) => l['fx'] === 'start' || l['fx'] === 'end' || l['fx'] === 'abort')) {
        const rid = String(line['rid']);
        const at = Number(line['at']);
        if (line['fx'] === 'start') {
          byRid.set(rid, {
            proc: proc.name, key: String(line['key']), rid, start: at, end: proc.exit?.at ?? Infinity, ended: false,
            ...(typeof line['leading'] === 'boolean' ? { leading: line['leading'] } : {}),
          });
        } else {
          const interval = byRid.get(rid);
          if (!interval) continue;
          if (line['fx'] === 'abort') interval.abortAt ??= at;
          else {
            interval.end = at;
            interval.ended = true;
            interval.outcome = String(line['outcome']);
          }
        }
      }
      result.push(...byRid.values());
    }
  }
  return result.sort((a, b) => a.start - b.start);
}

/** Pairs of intervals of one key that overlap in time, from different processes (or, with `sameProcess`, the same one). */
export function overlaps(all: readonly Interval[], sameProcess = false): Array<[Interval, Interval]> {
  const found: Array<[Interval, Interval]> = [];
  const byKey = new Map<string, Interval[]>();
  for (const i of all) byKey.set(i.key, [...(byKey.get(i.key) ?? []), i]);
  for (const list of byKey.values()) {
    for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b < list.length; b++) {
        const x = list[a]!;
        const y = list[b]!;
        if ((x.proc === y.proc) !== sameProcess) continue;
        if (x.start < y.end && y.start < x.end) found.push([x, y]);
      }
    }
  }
  return found;
}

/** Describes an overlap for a failure message. */
export function describeOverlap([x, y]: [Interval, Interval]): string {
  const span = (i: Interval) => `${i.proc} ${Math.round(i.start) % 100_000}-${Number.isFinite(i.end) ? Math.round(i.end) % 100_000 : 'running'}`;
  return `${x.key}: ${span(x)} and ${span(y)}`;
}

/** Minimal raw JSON access to the API server (no model conversion, so any object, however deep or large, reads back). */
export class RawApi {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });
  constructor(private readonly kubeConfig: KubeConfig) {}

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: T }> {
    const server = this.kubeConfig.getCurrentCluster()!.server;
    const options: Parameters<typeof request>[1] & { headers: Record<string, string> } = { method, agent: this.#agent, headers: { Accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (payload !== undefined) options.headers['Content-Type'] = contentType;
    return new Promise((resolve, reject) => {
      const req = request(`${server}${path}`, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try { parsed = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
        res.on('error', reject);
      });
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The request, or an Error with the server's answer unless the status is 2xx. */
  async ok<T = Record<string, unknown>>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.request<T>(method, path, body, contentType);
    if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path}: HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    return res.body;
  }

  close(): void {
    this.#agent.destroy();
  }
}

export interface ReadyState {
  status?: string;
  reason?: string;
  message?: string;
  /** The condition is about the object's current generation. */
  current: boolean;
}

export type Obj = { metadata?: { name?: string; generation?: number; deletionTimestamp?: string; finalizers?: string[]; uid?: string; ownerReferences?: Array<{ uid: string; name: string; controller?: boolean; kind: string }> }; status?: { conditions?: unknown } };

/** The Ready condition of an object, if it has a well-formed one. */
export function readyOf(obj: Obj): ReadyState | undefined {
  const conditions = obj.status?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  const ready = conditions.find((c): c is Record<string, unknown> => c !== null && typeof c === 'object' && (c as Record<string, unknown>)['type'] === 'Ready');
  if (!ready) return undefined;
  return {
    status: ready['status'] as string,
    reason: ready['reason'] as string,
    message: ready['message'] as string,
    current: ready['observedGeneration'] === obj.metadata?.generation,
  };
}

/** Tasks (or Beacons) of one namespace through {@link RawApi}. */
export class Objects {
  constructor(readonly api: RawApi, readonly namespace: string, readonly plural: 'tasks' | 'beacons' = 'tasks') {}
  get path(): string {
    return `/apis/faults.maestro.dev/v1/namespaces/${this.namespace}/${this.plural}`;
  }
  create(name: string, spec: Record<string, unknown>): Promise<Obj> {
    const kind = this.plural === 'tasks' ? 'Task' : 'Beacon';
    return this.api.ok('POST', this.path, { apiVersion: 'faults.maestro.dev/v1', kind, metadata: { name, namespace: this.namespace }, spec });
  }
  get(name: string): Promise<Obj> {
    return this.api.ok('GET', `${this.path}/${name}`);
  }
  async exists(name: string): Promise<boolean> {
    return (await this.api.request('GET', `${this.path}/${name}`)).status !== 404;
  }
  async list(): Promise<Obj[]> {
    return (await this.api.ok<{ items: Obj[] }>('GET', this.path)).items;
  }
  async delete(name: string): Promise<void> {
    await this.api.ok('DELETE', `${this.path}/${name}`);
  }
  /** Waits until Ready=True for the current generation. */
  async waitReady(name: string, timeoutMs: number): Promise<Obj> {
    return eventually(async () => {
      const obj = await this.get(name);
      const ready = readyOf(obj);
      return ready?.status === 'True' && ready.current ? obj : undefined;
    }, { timeoutMs, intervalMs: 200, message: `${this.plural} ${this.namespace}/${name} Ready=True` });
  }
  /** How many are Ready=True for their current generation. */
  async readyCount(): Promise<number> {
    return (await this.list()).filter((o) => { const r = readyOf(o); return r?.status === 'True' && r.current; }).length;
  }
}

/** Creates `count` objects `name(i)` with at most `parallel` requests at once. */
export async function createMany(objects: Objects, count: number, name: (i: number) => string, spec: (i: number) => Record<string, unknown>, parallel = 16): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let i = next++; i < count; i = next++) await objects.create(name(i), spec(i));
  }));
}

/** Median of numbers (NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
