// Scenario 4, in a process of its own (node --expose-gc --max-semi-space-size=128):
// what Maestro adds around reconcilers. Five decorated no-op reconcilers are assembled
// as the operator assembles them (one child DI container per conduct, each step
// resolved from it, a State, the status writer finding nothing to write); `ReconcilePipeline.reconcile()` is
// timed against awaiting the five reconcile methods directly.
//   time: median of 7 batches of sequential, awaited calls (after a warm-up);
//   allocation: heapUsed after minus before a batch that fits in the young generation
//   (no GC during it, checked), divided by the batch size.
import 'reflect-metadata';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { container } from 'tsyringe';
import { Context, type Reconciler, type Result } from '../lib/index.js';
import { noopLogger } from '../lib/conductor/index.js';
import {
  ReconcilePipeline, ReconcileScope, Registry, buildSpecs, noopEventRecorder, planInjection,
} from '../lib/runtime/index.js';
import { FakeClient } from '../lib/testing/index.js';
import { Parent, Reconciles, Resource } from '../decorators/index.js';

@Resource({ group: 'overhead.bench.maestro.dev', version: 'v1', kind: 'Thing' })
class Thing {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: { size: number };
}

@Parent(Thing) @Reconciles(10) class Step1 implements Reconciler<Thing> { async reconcile(): Promise<Result> { return {}; } }
@Parent(Thing) @Reconciles(20) class Step2 implements Reconciler<Thing> { async reconcile(): Promise<Result> { return {}; } }
@Parent(Thing) @Reconciles(30) class Step3 implements Reconciler<Thing> { async reconcile(): Promise<Result> { return {}; } }
@Parent(Thing) @Reconciles(40) class Step4 implements Reconciler<Thing> { async reconcile(): Promise<Result> { return {}; } }
/** Runs of the last step: proves every conduct ran all five. */
let lastStepRuns = 0;
@Parent(Thing) @Reconciles(50) class Step5 implements Reconciler<Thing> { async reconcile(): Promise<Result> { lastStepRuns++; return {}; } }

export interface OverheadResult {
  steps: number;
  conduct: { usPerCall: number; usPerCallMin: number; usPerCallMax: number; bytesPerCall: number };
  direct: { usPerCall: number; usPerCallMin: number; usPerCallMax: number; bytesPerCall: number };
  /** (conduct - direct) / steps, µs. */
  overheadUsPerStep: number;
  /** (conduct - direct) / steps, bytes. */
  overheadBytesPerStep: number;
}

const STEPS = 5;
// Never used by the no-op reconcilers; the status writer finds nothing to write.
const client = new FakeClient();
const [parentSpec] = buildSpecs({ components: [Step1, Step2, Step3, Step4, Step5] }).parents;
if (!parentSpec || parentSpec.steps.length !== STEPS) throw new Error('the spec does not have 5 steps');
const root = container.createChildContainer();
const { plan } = planInjection(parentSpec, Registry.default, root);
const pipeline = new ReconcilePipeline(parentSpec, {
  scopes: (object, reconcileClient, logger) => new ReconcileScope(root, parentSpec.type, plan, object, reconcileClient, logger),
  readLive: (obj) => client.readLive(obj),
  events: noopEventRecorder,
});
const ctx = Context.background();
const parent: Thing & { status: { observedGeneration: number } } = {
  apiVersion: 'overhead.bench.maestro.dev/v1', kind: 'Thing', metadata: { name: 'thing', namespace: 'default', generation: 1, uid: '0' }, spec: { size: 1 },
  status: { observedGeneration: 1 },
};
const request = { ctx, parent, client, logger: noopLogger };
const direct: Reconciler<Thing>[] = [new Step1(), new Step2(), new Step3(), new Step4(), new Step5()];

let conducted = 0;
const viaConductor = async () => {
  await pipeline.reconcile(request);
  conducted++;
};
const directly = async () => {
  for (const step of direct) await step.reconcile(ctx, client, parent);
};

let gcs = 0;
const observer = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
observer.observe({ entryTypes: ['gc'] });

async function time(fn: () => Promise<void>, calls: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < calls; i++) await fn();
  return ((performance.now() - started) * 1000) / calls;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Bytes allocated per call: heapUsed growth over a batch that causes no GC (retried smaller otherwise). */
async function allocation(fn: () => Promise<void>): Promise<number> {
  if (!gc) return NaN;
  for (let calls = 20_000; calls >= 500; calls = Math.floor(calls / 2)) {
    gc();
    gc();
    // Let the observer see those two collections before counting.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const gcsBefore = gcs;
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < calls; i++) await fn();
    const after = process.memoryUsage().heapUsed;
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (gcs === gcsBefore) return (after - before) / calls;
  }
  return NaN;
}

async function measure(fn: () => Promise<void>) {
  await time(fn, 50_000); // warm-up (optimised code)
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) samples.push(await time(fn, 20_000));
  samples.sort((a, b) => a - b);
  const bytesPerCall = await allocation(fn);
  return { usPerCall: samples[3]!, usPerCallMin: samples[0]!, usPerCallMax: samples[6]!, bytesPerCall };
}

const conductResult = await measure(viaConductor);
if (lastStepRuns !== conducted) throw new Error(`conduct() ran the last step ${lastStepRuns} times in ${conducted} conducts`);
const directResult = await measure(directly);
const result: OverheadResult = {
  steps: STEPS,
  conduct: conductResult,
  direct: directResult,
  overheadUsPerStep: (conductResult.usPerCall - directResult.usPerCall) / STEPS,
  overheadBytesPerStep: (conductResult.bytesPerCall - directResult.bytesPerCall) / STEPS,
};
observer.disconnect();
if (process.send) process.send({ type: 'result', result }, () => process.exit(0));
else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
