// The operator the fault scenarios run, written against the user's contract only
// (decorators, Reconciler/Cleaner, Client, Context, fetchState): a Task custom resource
// whose reconciler may wait (honouring the context's cancellation), applies one ConfigMap
// child, reports Ready and may requeue; a finalizer deletes the child. A Beacon resource
// with a trivial reconciler gives one informer per namespace.
//
// Every reconcile writes structured lines of its own to stdout (`fx` field), so a test can
// rebuild from a process's output when each reconcile started and ended, whether its
// context was cancelled, and how long each API call took.
import 'reflect-metadata';
import { writeSync } from 'node:fs';
import { V1ConfigMap, type V1CustomResourceDefinition, type V1ObjectMeta } from '@kubernetes/client-node';
import { IsBoolean, IsDefined, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import {
  Client, Context, fetchState, isNotFound, type Cleaner, type Condition, type Reconciler, type Result,
} from '../../../lib/index.js';
import { ContextCanceledError } from '../../../lib/conductor/index.js';
import { Finalizer, Owns, Parent, Reconciles, Resource } from '../../../decorators/index.js';

export const GROUP = 'faults.maestro.dev';
export const FINALIZER = `${GROUP}/cleanup`;

/** A wall-clock time in milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now();

/** One fixture line on stdout (one write: lines stay whole when processes share a pipe). */
export function emit(fields: Record<string, unknown>): void {
  writeSync(1, `${JSON.stringify({ ...fields, pid: process.pid })}\n`);
}

/** Whether the operator says it leads (set by the process's main), recorded with every reconcile start. */
export const leadership: { isLeader?: () => boolean } = {};

let sequence = 0;
const nextId = (): string => `${process.pid}-${++sequence}`;

export class TaskSpec {
  @IsOptional() @IsString() @MaxLength(253) message?: string;
  /** Wait this long inside the reconcile (cancelled with the context). */
  @IsOptional() @IsInt() @Min(0) @Max(600_000) delayMs?: number;
  /** Ask to be reconciled again after this long. */
  @IsOptional() @IsInt() @Min(1) @Max(600_000) requeueAfterMs?: number;
  /** The child ConfigMap's name (default: the Task's). */
  @IsOptional() @IsString() @Matches(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/) child?: string;
  /** Put a timestamp in the child, so every reconcile really writes. */
  @IsOptional() @IsBoolean() heartbeat?: boolean;
  /** Free text of any size. */
  @IsOptional() @IsString() payload?: string;
  /** Any object. */
  @IsOptional() @IsObject() extra?: Record<string, unknown>;
}

@Resource({ group: GROUP, version: 'v1', kind: 'Task' })
export class Task {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: TaskSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

const keyOf = (obj: { metadata?: V1ObjectMeta }) => `${obj.metadata?.namespace}/${obj.metadata?.name}`;

/** Resolves after `ms`, or rejects with ContextCanceledError when the context is cancelled. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ContextCanceledError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ContextCanceledError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Emits start, abort (when the context is cancelled) and end lines around `work`. */
async function traced<T>(ctx: Context, key: string, work: (rid: string) => Promise<T>): Promise<T> {
  const rid = nextId();
  emit({ fx: 'start', key, rid, at: now(), ...(leadership.isLeader ? { leading: leadership.isLeader() } : {}) });
  const onAbort = () => emit({ fx: 'abort', key, rid, at: now() });
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  let outcome = 'ok';
  let error: string | undefined;
  try {
    return await work(rid);
  } catch (err) {
    outcome = ctx.signal.aborted ? 'aborted' : 'error';
    error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw err;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    emit({ fx: 'end', key, rid, at: now(), outcome, ...(error ? { error: error.slice(0, 300) } : {}) });
  }
}

@Parent(Task) @Reconciles(10) @Owns(V1ConfigMap)
export class TaskReconciler implements Reconciler<Task> {
  async reconcile(ctx: Context, client: Client, task: Task): Promise<Result> {
    const key = keyOf(task);
    return traced(ctx, key, async (rid) => {
      const spec = task.spec;
      if (spec.delayMs) await sleep(spec.delayMs, ctx.signal);
      const data: Record<string, string> = { message: spec.message ?? '' };
      if (spec.heartbeat) data['beat'] = String(Date.now());
      const startedAt = now();
      try {
        await client.apply<V1ConfigMap>({
          apiVersion: 'v1', kind: 'ConfigMap',
          metadata: { name: spec.child ?? task.metadata!.name!, labels: { [`${GROUP}/task`]: task.metadata!.name! } },
          data,
        });
        emit({ fx: 'api', key, rid, startedAt, endedAt: now(), ok: true });
      } catch (err) {
        emit({ fx: 'api', key, rid, startedAt, endedAt: now(), ok: false, error: err instanceof Error ? err.message.slice(0, 300) : String(err) });
        throw err;
      }
      fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Done', message: `child ${spec.child ?? task.metadata!.name!} applied` });
      return spec.requeueAfterMs ? { requeueAfter: spec.requeueAfterMs } : {};
    });
  }
}

@Parent(Task) @Finalizer(FINALIZER)
export class TaskCleanup implements Cleaner<Task> {
  async cleanup(ctx: Context, client: Client, task: Task): Promise<Result> {
    const key = keyOf(task);
    emit({ fx: 'cleanup', key, at: now() });
    const child = (task.spec as TaskSpec | undefined)?.child ?? task.metadata!.name!;
    try {
      await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: child, namespace: task.metadata!.namespace! } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    void ctx;
    return {};
  }
}

@Resource({ group: GROUP, version: 'v1', kind: 'Beacon' })
export class Beacon {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: Record<string, unknown>;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

@Parent(Beacon) @Reconciles(10)
export class BeaconReconciler implements Reconciler<Beacon> {
  async reconcile(ctx: Context, _client: Client, beacon: Beacon): Promise<Result> {
    return traced(ctx, keyOf(beacon), async () => {
      fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Seen' });
      return {};
    });
  }
}

/** The reconciler sets a fault operator process can run (`FAULT_KIND`). */
export const reconcilerSets = {
  task: [TaskReconciler, TaskCleanup],
  beacon: [BeaconReconciler],
} as const;

function crd(kind: string, plural: string): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind },
      versions: [{
        name: 'v1', served: true, storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              // Deliberately open: the API server accepts any shape, so the operator meets hostile input.
              spec: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
              status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
            },
          },
        },
      }],
    },
  };
}

/** The Task and Beacon CRDs. */
export function faultCRDs(): V1CustomResourceDefinition[] {
  return [crd('Task', 'tasks'), crd('Beacon', 'beacons')];
}
