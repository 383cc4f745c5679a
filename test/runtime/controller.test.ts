// The controller, its reconcile pipeline and the leadership terms, on the fake client and a
// fake clock: no API server. Components are declared in a registry of this file's own.
import 'reflect-metadata';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { V1ConfigMap, V1Secret, type KubernetesObject, type V1ObjectMeta } from '@kubernetes/client-node';
import { IsDefined, IsInt, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { decoratorsFor } from '../../decorators/index.js';
import { ApiError, Context, TerminalError, fetchState, type Cleaner, type Client, type Condition, type Reconciler, type Result } from '../../lib/index.js';
import { noopLogger } from '../../lib/conductor/index.js';
import {
  Controller, FakeClock, Metrics, ReconcilePipeline, ReconcileScope, Registry, Terms, buildSpecs, planInjection, type ParentSpec,
} from '../../lib/runtime/index.js';
import { FakeClient, type FakeInterceptor, type RecordedEvent } from '../../lib/testing/index.js';
import type { InformerHandler, ObjectSource } from '../../lib/cache/index.js';
import type { ResourceInfo } from '../../lib/resources/index.js';
import type { ObjectLimits } from '../../lib/limits/index.js';
import type { RateLimiter } from '../../lib/queue/index.js';
import { isPending, tick, waitFor } from '../queue/wait.js';

const registry = new Registry();
const { Resource, Parent, Reconciles, Owns, Finalizer } = decoratorsFor(registry);

class TaskSpec {
  @IsString() message!: string;
  @IsOptional() @IsInt() @Min(0) workMs?: number;
}

@Resource({ group: 'unit.maestro.dev', version: 'v1', kind: 'Task' })
class Task {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: TaskSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

const NS = 'work';
const keyOf = (task: Task) => `${task.metadata!.namespace}/${task.metadata!.name}`;

/** What the components saw, reset per test. */
const seen = {
  clock: new FakeClock(),
  trace: [] as string[],
  inFlight: new Set<string>(),
  overlaps: [] as string[],
  started: [] as string[],
  interrupted: [] as string[],
  stubborn: undefined as undefined | { promise: Promise<void>; release: () => void },
};

/** Waits `ms` on the test's fake clock, or rejects with the context's error when it is cancelled. */
function sleep(ctx: Context, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const interrupted = () => ctx.err() ?? new Error('cancelled');
    if (ctx.aborted) return reject(interrupted());
    const cancel = seen.clock.setTimer(() => { ctx.signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { cancel(); reject(interrupted()); };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

@Parent(Task) @Reconciles(10)
class Work implements Reconciler<Task> {
  async reconcile(ctx: Context, client: Client, task: Task): Promise<Result> {
    const key = keyOf(task);
    if (seen.inFlight.has(key)) seen.overlaps.push(key);
    seen.inFlight.add(key);
    seen.started.push(key);
    seen.trace.push(`work:${key}`);
    try {
      if (task.spec.message === 'fail') throw new Error(`boom for ${task.metadata!.name}`);
      if (task.spec.message === 'slow-api') await client.get(V1Secret, { name: 'held' });
      if (task.spec.message === 'stubborn') await seen.stubborn!.promise;
      if (task.spec.workMs) await sleep(ctx, task.spec.workMs);
      return {};
    } catch (err) {
      if (ctx.aborted) seen.interrupted.push(key);
      throw err;
    } finally {
      seen.inFlight.delete(key);
    }
  }
}

@Parent(Task) @Reconciles(20) @Owns(V1ConfigMap)
class Child implements Reconciler<Task> {
  async reconcile(_ctx: Context, client: Client, task: Task): Promise<Result> {
    seen.trace.push(`child:${keyOf(task)}`);
    await client.apply<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: task.metadata!.name! }, data: { message: task.spec.message } });
    return {};
  }
}

@Parent(Task) @Reconciles(30)
class Ready implements Reconciler<Task> {
  async reconcile(ctx: Context, _client: Client, task: Task): Promise<Result> {
    seen.trace.push(`ready:${keyOf(task)}`);
    fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Done', message: `did ${task.spec.message}` });
    return {};
  }
}

@Parent(Task) @Finalizer('unit.maestro.dev/cleanup')
class Cleanup implements Cleaner<Task> {
  async cleanup(_ctx: Context, _client: Client, task: Task): Promise<Result> {
    seen.trace.push(`cleanup:${keyOf(task)}`);
    if (task.spec.message === 'refuse-cleanup') throw new TerminalError('CleanupRefused', `no cleanup for ${task.metadata!.name}`);
    return {};
  }
}

const task = (name: string, spec: Partial<TaskSpec> = { message: 'hi' }): Task =>
  ({ apiVersion: 'unit.maestro.dev/v1', kind: 'Task', metadata: { name, namespace: NS }, spec: spec as TaskSpec });

/** A controller for Tasks on a fake client, with its pipeline and terms, all on the fake clock. */
function harness(options: {
  concurrency?: number; objects?: Task[]; intercept?: FakeInterceptor; limits?: ObjectLimits; retiredFinalizers?: string[];
  rateLimiter?: () => RateLimiter<string>;
} = {}) {
  const client = new FakeClient({ registry, objects: options.objects, intercept: options.intercept });
  // The Task handlers the controller subscribes, so that a test can deliver events the fake
  // API cannot produce (a deletion as kube-apiserver makes it in kubernetes#77988).
  const taskHandlers: Array<InformerHandler<KubernetesObject>> = [];
  const source: ObjectSource = {
    ...client.source,
    addHandler: <T extends KubernetesObject>(resource: ResourceInfo, handler: InformerHandler<T>) => {
      if (resource.kind === 'Task') taskHandlers.push(handler);
      client.source.addHandler(resource, handler);
    },
  };
  const deliverDelete = (obj: Task, finalStateUnknown?: boolean) => { for (const handler of taskHandlers) handler.onDelete?.(obj, finalStateUnknown); };
  const spec = buildSpecs({ registry, components: [Work, Child, Ready, Cleanup] }).parents[0] as ParentSpec;
  const root = container.createChildContainer();
  const { plan, problems } = planInjection(spec, registry, root);
  expect(problems).to.deep.equal([]);
  const events: RecordedEvent[] = [];
  const pipeline = new ReconcilePipeline(spec, {
    scopes: (object, reconcileClient, logger) => new ReconcileScope(root, spec.type, plan, object, reconcileClient, logger),
    readLive: (obj, signal) => client.readLive(obj, signal),
    events: { event: (obj, type, reason, message) => events.push({ type, reason, message, object: `${obj.metadata?.namespace}/${obj.metadata?.name}` }) },
    limits: options.limits,
    retiredFinalizers: options.retiredFinalizers,
  });
  const controller = new Controller({
    spec, source, client, pipeline, metrics: new Metrics(), logger: noopLogger,
    maxConcurrentReconciles: options.concurrency ?? 1, clock: seen.clock, rateLimiter: options.rateLimiter,
  });
  controller.watch();
  const terms = new Terms([controller], Context.background(), { logger: noopLogger, graceMs: 10_000, clock: seen.clock });
  const stored = (name: string) => client.objects(Task).find((t) => t.metadata?.name === name);
  const ready = (name: string) => stored(name)?.status?.conditions?.find((c) => (c as Condition | null)?.type === 'Ready');
  const writes = () => client.calls.filter((c) => !c.startsWith('get ') && !c.startsWith('list '));
  return { client, controller, terms, events, stored, ready, writes, deliverDelete };
}

/** Advances the fake clock in steps until `condition` holds (timers fire, workers run in between). */
async function advanceUntil(condition: () => boolean, what: string, stepMs = 100, maxMs = 600_000): Promise<void> {
  for (let waited = 0; !condition(); waited += stepMs) {
    if (waited > maxMs) throw new Error(`${what} did not happen within ${maxMs} ms of fake time`);
    seen.clock.advance(stepMs);
    for (let i = 0; i < 5; i++) await tick();
  }
}

describe('The controller and its reconcile pipeline (fake client, fake clock)', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    seen.clock = new FakeClock();
    seen.trace = [];
    seen.inFlight.clear();
    seen.overlaps = [];
    seen.started = [];
    seen.interrupted = [];
    seen.stubborn = undefined;
  });
  afterEach(async () => {
    seen.stubborn?.release();
    await h?.terms.stop(1_000);
  });

  describe('the pipeline', () => {
    it('runs validation, then finalizers, then the steps in order, then the status writer', async () => {
      h = harness({ objects: [task('a', { message: 'hi' })] });
      h.terms.begin();
      await waitFor(() => h.ready('a')?.status === 'True', 'Ready=True');
      expect(seen.trace).to.deep.equal([`work:${NS}/a`, `child:${NS}/a`, `ready:${NS}/a`]);
      // The finalizer is written before any step could create something to clean up; status last.
      expect(h.writes()).to.deep.equal([`patch Task/${NS}/a`, `apply ConfigMap/${NS}/a`, `status-patch Task/${NS}/a`]);
      const a = h.stored('a')!;
      expect(a.metadata?.finalizers).to.deep.equal(['unit.maestro.dev/cleanup']);
      expect(a.status?.observedGeneration).to.equal(1);
      const cm = h.client.objects(V1ConfigMap)[0]!;
      expect(cm.metadata?.ownerReferences).to.deep.equal([{
        apiVersion: 'unit.maestro.dev/v1', kind: 'Task', name: 'a', uid: a.metadata!.uid, controller: true, blockOwnerDeletion: true,
      }]);
      expect(h.events, 'a condition that appears True records no Event').to.deep.equal([]);
      // The echoes of its own writes (finalizer, child, status) enqueue nothing.
      await advanceUntil(() => true, 'settle');
      expect(seen.started).to.deep.equal([`${NS}/a`]);
    });

    it('stops an invalid parent at validation: Ready=False/InvalidSpec, no finalizer, no step, Warning Events, no retry', async () => {
      h = harness({ objects: [task('bad', { message: 42 as unknown as string })] });
      h.terms.begin();
      await waitFor(() => h.ready('bad')?.reason === 'InvalidSpec', 'InvalidSpec');
      expect(h.ready('bad')).to.include({ status: 'False' });
      expect(h.ready('bad')!.message).to.contain('spec.message (isString)');
      expect(h.writes()).to.deep.equal([`status-patch Task/${NS}/bad`]);
      expect(seen.trace).to.deep.equal([]);
      expect(h.events.map((e) => [e.type, e.reason, e.message.split(':')[0]])).to.deep.equal([
        ['Warning', 'InvalidSpec', 'Ready'],
        ['Warning', 'InvalidSpec', 'reconciler SpecValidation failed'],
      ]);
      await advanceUntil(() => false, 'nothing', 60_000, 600_000).catch(() => undefined);
      expect(h.writes(), 'a terminal error is not retried').to.have.length(1);
    });

    it('refuses a parent nested deeper than the limit without copying it (Ready=False/ObjectTooDeep, a Warning, no retry); the others converge', async () => {
      // 3,000 levels: structuredClone overflows the stack at about 1,600, the limit check and the copy walk iteratively.
      const extra: unknown = JSON.parse(`${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`);
      const deep = { ...task('deep'), spec: { message: 'hi', extra } as unknown as TaskSpec };
      h = harness({ objects: [deep, task('good')], concurrency: 2 });
      h.terms.begin();
      await waitFor(() => h.ready('good')?.status === 'True' && h.ready('deep') !== undefined, 'good Ready, deep reported on');
      expect(h.ready('deep')).to.include({ status: 'False', reason: 'ObjectTooDeep', message: 'the object nests deeper than 100 levels; it is not reconciled' });
      expect(h.stored('deep')!.status!.observedGeneration, 'the refusal is about this generation').to.equal(1);
      expect(h.stored('deep')!.metadata!.finalizers, 'nothing else was written').to.equal(undefined);
      expect(seen.started).to.deep.equal([`${NS}/good`]);
      expect(h.events.filter((e) => e.object === `${NS}/deep`).map((e) => [e.type, e.reason])).to.deep.equal([
        ['Warning', 'ObjectTooDeep'], ['Warning', 'ObjectTooDeep'],
      ]);
      await advanceUntil(() => false, 'nothing', 60_000, 600_000).catch(() => undefined);
      expect(h.writes().filter((w) => w.includes('/deep')), 'terminal: not retried until it changes').to.have.length(1);
      // Fixed, it is reconciled.
      await h.client.patch(h.stored('deep')!, { spec: { message: 'hi', extra: null } });
      await advanceUntil(() => h.ready('deep')?.status === 'True', 'deep Ready once shallow');
    });

    it('refuses a parent above objectLimits.maxBytes with ObjectTooLarge', async () => {
      h = harness({ objects: [task('big', { message: 'x'.repeat(5_000) }), task('small')], limits: { maxBytes: 2_000 } });
      h.terms.begin();
      await waitFor(() => h.ready('big') !== undefined && h.ready('small')?.status === 'True', 'both reported on');
      expect(h.ready('big')).to.include({ status: 'False', reason: 'ObjectTooLarge' });
      expect(h.ready('big')!.message).to.equal('the object is larger than 2000 bytes as JSON; it is not reconciled');
    });

    it('reads garbage stored conditions leniently and reports wrong types in every field as InvalidSpec', async () => {
      const garbage = {
        ...task('junk', { message: 12, workMs: 'slow' } as unknown as TaskSpec),
        status: { conditions: [null, 5, 'Ready', { type: 7 }, { type: 'Other', status: 'True', reason: 'Theirs', message: 12 }], observedGeneration: 'x' },
      } as unknown as Task;
      h = harness({ objects: [garbage] });
      h.terms.begin();
      await waitFor(() => h.ready('junk') !== undefined, 'junk reported on');
      expect(h.ready('junk')).to.include({ status: 'False', reason: 'InvalidSpec' });
      expect(h.ready('junk')!.message).to.contain('spec.message (isString)').and.to.contain('spec.workMs (isInt)');
      // What could be read is kept, the rest dropped: the list the API server gets back is well-formed.
      expect(h.stored('junk')!.status!.conditions!.map((c) => `${c.type}/${c.status}/${c.reason}/${JSON.stringify(c.message)}`)).to.deep.equal([
        'Other/True/Theirs/""', `Ready/False/InvalidSpec/${JSON.stringify(h.ready('junk')!.message)}`,
      ]);
      expect(h.stored('junk')!.status!.observedGeneration).to.equal(1);
    });

    it('adds the finalizer, runs the cleanup once on deletion, then removes the finalizer so the object goes away', async () => {
      h = harness({ objects: [task('f')] });
      h.terms.begin();
      await waitFor(() => h.ready('f')?.status === 'True', 'Ready=True');
      await h.client.delete(h.stored('f')!);
      expect(h.stored('f')?.metadata?.deletionTimestamp, 'the finalizer holds the object').to.be.instanceOf(Date);
      await waitFor(() => h.stored('f') === undefined, 'the object gone');
      expect(seen.trace.filter((t) => t.startsWith('cleanup'))).to.deep.equal([`cleanup:${NS}/f`]);
      expect(h.client.actions.filter((a) => a.verb === 'patch').map((a) => a.body)).to.deep.equal([
        { metadata: { resourceVersion: '1', finalizers: ['unit.maestro.dev/cleanup'] } },
        [
          { op: 'test', path: '/metadata/finalizers/0', value: 'unit.maestro.dev/cleanup' },
          { op: 'remove', path: '/metadata/finalizers/0' },
        ],
      ]);
    });

    it('removes its finalizer while other controllers edit theirs, and never runs a cleanup twice', async () => {
      const cleanups = () => seen.trace.filter((t) => t === `cleanup:${NS}/m`).length;
      let edited = false;
      const intercept: FakeInterceptor = async (action) => {
        if (action.verb !== 'patch' || !Array.isArray(action.body) || edited) return;
        edited = true;
        // Just before our removal lands, another controller removes its finalizer (ahead of
        // ours in the list) and adds another one: the index of ours moved.
        const current = h.stored('m')!;
        await h.client.patch(current, { metadata: { finalizers: ['unit.maestro.dev/cleanup', 'other.dev/b'] } });
      };
      h = harness({ objects: [{ ...task('m'), metadata: { name: 'm', namespace: NS, finalizers: ['other.dev/a'] } }], intercept });
      h.terms.begin();
      await waitFor(() => h.ready('m')?.status === 'True', 'Ready=True');
      expect(h.stored('m')!.metadata!.finalizers).to.deep.equal(['other.dev/a', 'unit.maestro.dev/cleanup']);
      await h.client.delete(h.stored('m')!);
      await waitFor(() => !(h.stored('m')?.metadata?.finalizers ?? []).includes('unit.maestro.dev/cleanup'), 'our finalizer removed');
      expect(h.stored('m')!.metadata!.finalizers, 'theirs untouched').to.deep.equal(['other.dev/b']);
      expect(cleanups(), 'one cleanup').to.equal(1);
      const removals = h.client.actions.filter((a) => a.verb === 'patch' && Array.isArray(a.body) && (a.body as Array<{ op: string }>)[0]?.op === 'test');
      expect(removals.map((a) => (a.body as Array<{ path: string }>)[0]!.path), 'the first attempt failed its test, the second found the new index').to.deep.equal([
        '/metadata/finalizers/1', '/metadata/finalizers/0',
      ]);
      await advanceUntil(() => false, 'nothing', 10_000, 300_000).catch(() => undefined);
      expect(cleanups(), 'still one cleanup').to.equal(1);
    });

    it('does not run a cleanup again when removing its finalizer failed and the reconcile is retried', async () => {
      let failures = 0;
      const intercept: FakeInterceptor = (action) => {
        if (action.verb === 'patch' && Array.isArray(action.body) && failures++ === 0) {
          throw new ApiError(503, 'etcdserver: leader changed', { reason: 'ServiceUnavailable', code: 503 });
        }
      };
      h = harness({ objects: [task('once')], intercept });
      h.terms.begin();
      await waitFor(() => h.ready('once')?.status === 'True', 'Ready=True');
      await h.client.delete(h.stored('once')!);
      await advanceUntil(() => h.stored('once') === undefined, 'the object gone', 10);
      expect(failures, 'the first removal failed, the retry succeeded').to.equal(2);
      expect(seen.trace.filter((t) => t === `cleanup:${NS}/once`), 'the cleanup ran once').to.have.length(1);
    });

    it('removes retired finalizers without cleanup: from live parents (with its own in one patch) and from deleted ones', async () => {
      const legacy = 'unit.maestro.dev/legacy';
      h = harness({
        objects: [
          { ...task('live'), metadata: { name: 'live', namespace: NS, finalizers: ['other.dev/keep', legacy] } },
          { ...task('leaving'), metadata: { name: 'leaving', namespace: NS, finalizers: [legacy] } },
        ],
        retiredFinalizers: [legacy],
      });
      await h.client.delete(h.stored('leaving')!);
      h.terms.begin();
      await waitFor(() => h.ready('live')?.status === 'True' && h.stored('leaving') === undefined, 'live Ready, leaving gone');
      expect(h.stored('live')!.metadata!.finalizers).to.deep.equal(['other.dev/keep', 'unit.maestro.dev/cleanup']);
      expect(h.writes().filter((w) => w.startsWith('patch Task/work/live')), 'one patch').to.have.length(1);
      expect(seen.trace.filter((t) => t.startsWith('cleanup')), 'no cleanup for a retired finalizer').to.deep.equal([]);
      // Our own edit of the finalizers (legacy out, ours in) does not reconcile the parent again.
      await advanceUntil(() => true, 'settle');
      expect(seen.started.filter((k) => k === `${NS}/live`)).to.have.length(1);
    });

    it('retries a status write that conflicts with someone else\u2019s on a fresh read, keeping their condition', async () => {
      let raced = false;
      const intercept: FakeInterceptor = async (action) => {
        if (action.verb !== 'status-patch' || raced) return;
        raced = true;
        // Another writer changes the status just before the operator's write lands.
        const current = h.stored('r')!;
        await h.client.status().patch(current, { status: { conditions: [{ type: 'External', status: 'True', reason: 'SetByOthers', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] } });
      };
      h = harness({ objects: [task('r')], intercept });
      h.terms.begin();
      await waitFor(() => h.ready('r')?.status === 'True', 'Ready=True');
      expect(h.stored('r')!.status!.conditions!.map((c) => c.type)).to.deep.equal(['External', 'Ready']);
      const statusWrites = h.client.actions.filter((a) => a.verb === 'status-patch' || a.verb === 'get');
      // ours (409), theirs, the fresh read, ours again.
      expect(statusWrites.map((a) => a.verb)).to.deep.equal(['status-patch', 'status-patch', 'get', 'status-patch']);
    });

    it('records an Event for each change of a condition\u2019s status, none for one that appears True, and a Warning for each failure', async () => {
      h = harness({ objects: [task('e')] });
      h.terms.begin();
      await waitFor(() => h.ready('e')?.status === 'True', 'Ready=True');
      expect(h.events).to.deep.equal([]);
      await h.client.patch(h.stored('e')!, { spec: { message: 'fail' } });
      await waitFor(() => h.ready('e')?.status === 'False', 'Ready=False');
      expect(h.events).to.deep.equal([
        { type: 'Warning', reason: 'ReconcileError', message: 'Ready: True -> False: Work: boom for e', object: `${NS}/e` },
        { type: 'Warning', reason: 'ReconcileError', message: 'reconciler Work failed: boom for e', object: `${NS}/e` },
      ]);
      await h.client.patch(h.stored('e')!, { spec: { message: 'fine' } });
      await advanceUntil(() => h.ready('e')?.status === 'True', 'Ready=True again');
      expect(h.events.slice(2).filter((e) => e.reason === 'Done')).to.deep.equal([
        { type: 'Normal', reason: 'Done', message: 'Ready: False -> True: did fine', object: `${NS}/e` },
      ]);
    });
  });

  describe('parents deleted before their cleanup ran (a delete that raced the finalizer, kubernetes#77988)', () => {
    const FINALIZER = 'unit.maestro.dev/cleanup';
    /** The last state of a parent the API server removed although its finalizer was added: the finalizer, no deletionTimestamp. */
    const lastState = (name: string, uid: string): Task => ({ ...task(name), metadata: { name, namespace: NS, uid, finalizers: [FINALIZER] } });
    const cleanups = (name: string) => seen.trace.filter((t) => t === `cleanup:${NS}/${name}`).length;
    const idle = () => (h.controller.queue?.len() ?? 0) === 0 && h.controller.inFlight === 0;

    it('runs the cleanup of the parent that is gone, once, and writes nothing to it', async () => {
      h = harness();
      h.terms.begin();
      h.deliverDelete(lastState('raced', 'uid-raced'));
      await waitFor(() => cleanups('raced') === 1 && idle(), 'the cleanup ran');
      expect(h.writes(), 'no finalizer removal, no status: the parent is gone').to.deep.equal([]);
      expect(h.client.calls, 'one read, to make sure it is gone').to.deep.equal([`get Task/${NS}/raced`]);
      await advanceUntil(() => false, 'nothing', 10_000, 120_000).catch(() => undefined);
      expect(cleanups('raced'), 'not again').to.equal(1);
    });

    it('keeps what a parent owns when it is reported deleted but still exists (it stopped matching the selector)', async () => {
      h = harness({ objects: [task('kept')] });
      h.terms.begin();
      await waitFor(() => h.ready('kept')?.status === 'True', 'Ready=True');
      const reads = () => h.client.calls.filter((c) => c === `get Task/${NS}/kept`).length;
      h.deliverDelete(h.stored('kept')!);
      await waitFor(() => reads() === 1 && idle(), 'the live read');
      expect(cleanups('kept')).to.equal(0);
      expect(h.stored('kept')!.metadata!.finalizers).to.deep.equal([FINALIZER]);
    });

    it('ignores a deletion a re-list found (the state it has may be older than the one deleted)', () => {
      h = harness();
      h.terms.begin();
      h.deliverDelete(lastState('relisted', 'uid-relisted'), true);
      expect(h.controller.queue?.len()).to.equal(0);
    });

    it('cleans up after the deleted parent first, then reconciles one created since with the same name', async () => {
      h = harness({ objects: [task('again')] });
      h.terms.begin();
      h.deliverDelete(lastState('again', 'uid-old'));
      await waitFor(() => h.ready('again')?.status === 'True' && idle(), 'the new parent Ready=True');
      // (The deletion arrived while the key was queued already: it may be reconciled once more.)
      expect(seen.trace.filter((t) => t.endsWith(`${NS}/again`)).slice(0, 4)).to.deep.equal([`cleanup:${NS}/again`, `work:${NS}/again`, `child:${NS}/again`, `ready:${NS}/again`]);
      expect(cleanups('again')).to.equal(1);
      expect(h.stored('again')!.metadata!.finalizers, 'the new parent keeps its finalizer').to.deep.equal([FINALIZER]);
    });

    it('does not retry a cleanup that fails terminally, and still reconciles a parent created since with the same name', async () => {
      h = harness({ objects: [task('refused')] });
      h.terms.begin();
      await waitFor(() => h.ready('refused')?.status === 'True' && idle(), 'the new parent Ready=True');
      const reconciles = () => seen.trace.filter((t) => t === `work:${NS}/refused`).length;
      const before = reconciles();
      h.deliverDelete({ ...lastState('refused', 'uid-refused'), spec: { message: 'refuse-cleanup' } });
      await waitFor(() => cleanups('refused') === 1 && reconciles() === before + 1 && idle(), 'the cleanup, then the live parent');
      await advanceUntil(() => false, 'nothing', 10_000, 120_000).catch(() => undefined);
      expect(cleanups('refused'), 'not retried').to.equal(1);
    });

    it('retries with backoff when making sure the parent is gone fails, then cleans up once', async () => {
      let failures = 0;
      const intercept: FakeInterceptor = (action) => {
        if (action.verb === 'get' && action.name === 'flaky' && failures++ < 2) throw new ApiError(503, 'etcdserver: leader changed', { reason: 'ServiceUnavailable', code: 503 });
      };
      h = harness({ intercept });
      h.terms.begin();
      h.deliverDelete(lastState('flaky', 'uid-flaky'));
      await advanceUntil(() => cleanups('flaky') === 1 && idle(), 'the cleanup after two failed reads');
      expect(failures).to.equal(3);
      expect(h.writes()).to.deep.equal([]);
    });
  });

  describe('the controller', () => {
    it('retries a failing object with growing backoff on the queue\u2019s clock, and converges the others', async () => {
      h = harness({ objects: [task('bad', { message: 'fail' }), task('good')], concurrency: 2 });
      h.terms.begin();
      await waitFor(() => h.ready('good')?.status === 'True', 'good Ready');
      const attempts = () => seen.started.filter((k) => k === `${NS}/bad`).length;
      await waitFor(() => attempts() === 1, 'first attempt');
      // 5 ms doubling: attempts 2..6 come within 5+10+20+40+80 = 155 ms of fake time, the 7th needs 160 ms more.
      await advanceUntil(() => attempts() >= 6, 'six attempts', 1, 155);
      expect(attempts()).to.equal(6);
      seen.clock.advance(100);
      for (let i = 0; i < 5; i++) await tick();
      expect(attempts(), 'the next retry waits longer').to.equal(6);
      await advanceUntil(() => attempts() === 7, 'seventh attempt', 10, 100);
      expect(seen.started.filter((k) => k === `${NS}/good`)).to.have.length(1);
    });

    it('never reconciles one key twice at once, and runs at most maxConcurrentReconciles at a time', async () => {
      const tasks = Array.from({ length: 6 }, (_, i) => task(`c${i}`, { message: 'hi', workMs: 1000 }));
      h = harness({ objects: tasks, concurrency: 2 });
      h.terms.begin();
      await waitFor(() => seen.inFlight.size === 2, 'two in flight');
      // Changes to objects in flight are queued behind them, not run beside them.
      for (const name of ['c0', 'c1']) await h.client.patch(h.stored(name)!, { spec: { message: 'again', workMs: 1000 } });
      let most = 0;
      await advanceUntil(() => {
        most = Math.max(most, seen.inFlight.size);
        return tasks.every((t) => h.ready(t.metadata!.name!)?.message === (['c0', 'c1'].includes(t.metadata!.name!) ? 'did again' : 'did hi'));
      }, 'all converged', 50);
      expect(most).to.equal(2);
      expect(seen.overlaps).to.deep.equal([]);
      expect(seen.started.filter((k) => k === `${NS}/c0`)).to.have.length(2);
    });
  });

  describe('leadership terms', () => {
    it('on loss cancels every reconcile in flight at once (their API calls abort), hands out no key, and restarts cleanly when leading again', async () => {
      const aborted: string[] = [];
      const intercept: FakeInterceptor = async (action, signal) => {
        if (action.resource.kind !== 'Secret') return;
        // The API call of a reconcile in flight hangs until its context is cancelled.
        await new Promise<void>((resolve) => signal?.addEventListener('abort', () => { aborted.push(action.name); resolve(); }, { once: true }));
      };
      const tasks = [task('api', { message: 'slow-api' }), ...Array.from({ length: 7 }, (_, i) => task(`t${i}`, { message: 'hi', workMs: 1500 }))];
      h = harness({ objects: tasks, concurrency: 2, intercept });
      h.terms.begin();
      await waitFor(() => seen.inFlight.size === 2, 'two reconciles in flight');
      expect(seen.inFlight.has(`${NS}/api`)).to.equal(true);
      const before = [...seen.started];

      const lost = h.terms.lose();
      expect(h.controller.running, 'no key is handed out after the loss').to.equal(false);
      await lost;
      expect(seen.inFlight.size, 'every worker finished before lose() resolved').to.equal(0);
      expect(aborted, 'the API call in flight was aborted').to.deep.equal(['held']);
      expect(seen.interrupted.sort()).to.deep.equal(before.sort());

      // Not leading: nothing starts, whatever happens.
      await h.client.create(task('late'));
      await advanceUntil(() => false, 'nothing', 1_000, 30_000).catch(() => undefined);
      expect(seen.started).to.deep.equal(before);

      // Leading again: every parent is reconciled, the interrupted ones included.
      await h.client.patch(h.stored('api')!, { spec: { message: 'hi' } });
      h.terms.begin();
      await advanceUntil(() => [...tasks, task('late')].every((t) => h.ready(t.metadata!.name!)?.status === 'True'), 'all Ready', 100);
      expect(seen.overlaps).to.deep.equal([]);
    });

    it('begins no term while a worker of the lost one still runs, and reports it as stuck after the grace period', async () => {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => { release = resolve; });
      seen.stubborn = { promise, release };
      h = harness({ objects: [task('s', { message: 'stubborn' })] });
      h.terms.begin();
      await waitFor(() => seen.inFlight.has(`${NS}/s`), 'the stubborn reconcile in flight');
      const lost = h.terms.lose();
      expect(await isPending(lost), 'lose() waits for the worker that ignores cancellation').to.equal(true);
      h.terms.begin();
      expect(h.terms.active, 'no new term while the old one has a worker').to.equal(false);
      expect(h.terms.stuck).to.equal(undefined);
      seen.clock.advance(10_000);
      expect(h.terms.stuck).to.match(/still running 10000 ms after they were cancelled/);
      release();
      await lost;
      expect(h.terms.stuck).to.equal(undefined);
      h.terms.begin();
      expect(h.terms.active).to.equal(true);
      expect(seen.overlaps).to.deep.equal([]);
    });
  });

  it('lets API errors through typed: an apply refused by the API marks the parent Ready=False with the API\u2019s reason', async () => {
    const intercept: FakeInterceptor = (action) => {
      if (action.verb === 'apply') throw new ApiError(403, 'configmaps is forbidden', { reason: 'Forbidden', code: 403 });
    };
    h = harness({ objects: [task('denied')], intercept });
    h.terms.begin();
    await waitFor(() => h.ready('denied')?.reason === 'Forbidden', 'Ready=False/Forbidden');
    expect(h.ready('denied')!.message).to.contain('configmaps is forbidden');
    expect(h.events.find((e) => e.message.startsWith('reconciler Child failed'))?.reason).to.equal('Forbidden');
  });
});
