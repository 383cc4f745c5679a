import 'reflect-metadata';
import { expect } from 'chai';
import { container as globalContainer, inject, injectable, type DependencyContainer } from 'tsyringe';
import { KubeConfig, V1ConfigMap, V1ObjectMeta } from '@kubernetes/client-node';
import { IsInt, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';
import {
  Client, Context, Logger, OperatorConfigurationError, ReconcilerError, StaticBindable, State, TerminalError, createOperator, fetchState,
  type ComponentClass, type Condition, type Reconciler, type Result,
} from '../../lib/index.js';
import { noopLogger } from '../../lib/conductor/index.js';
import { Bound, Finalizer, Owns, Parent, Reconciles, Resource, Scoped, StatusConditions, decoratorsFor, discoveredComponents } from '../../decorators/index.js';
import {
  ReconcilePipeline, ReconcileScope, Registry, buildSpecs, noopEventRecorder, planInjection, type ParentSpec,
} from '../../lib/runtime/index.js';
import { FakeClient } from '../../lib/testing/index.js';

// A custom resource used as parent throughout this file.
class GadgetSpec {
  @IsString() @Matches(/^[a-z0-9.:/-]+$/) image!: string;
  @IsInt() @Min(1) @Max(10) replicas!: number;
}
@Resource({ group: 'test.maestro.dev', version: 'v1', kind: 'Gadget' })
class Gadget {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @ValidateNested() spec!: GadgetSpec;
  status?: { conditions?: Condition[] };
}

// Gadgets carry their finalizer already, so the EnsureFinalizers step has nothing to write.
const gadget = (name: string, spec: Partial<GadgetSpec> = { image: 'nginx', replicas: 1 }, finalizers = ['test.maestro.dev/cleanup']): Gadget => ({
  apiVersion: 'test.maestro.dev/v1', kind: 'Gadget', metadata: { name, namespace: 'default', generation: 1, finalizers }, spec: spec as GadgetSpec,
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

const trace: string[] = [];
const gates = new Map<string, ReturnType<typeof deferred>>();

@Scoped()
class GadgetPlan {
  owner = '';
  static created = 0;
  disposed = false;
  constructor() { GadgetPlan.created++; }
  dispose(): void { this.disposed = true; }
}

const labelBinder = new StaticBindable<string>('label');

@injectable()
class Counter { count = 0; }

@Parent(Gadget) @Reconciles(30)
class ThirdStep implements Reconciler<Gadget> {
  constructor(private readonly plan: GadgetPlan, @Bound(labelBinder) private readonly label: string, private readonly counter: Counter) {}
  async reconcile(ctx: Context, _client: Client, parent: Gadget): Promise<Result> {
    trace.push(`third:${parent.metadata!.name}:${this.plan.owner}:${this.label}`);
    this.counter.count++;
    fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Done', message: this.plan.owner });
    return {};
  }
}

@Parent(Gadget) @Reconciles(10)
class FirstStep implements Reconciler<Gadget> {
  constructor(
    private readonly plan: GadgetPlan,
    private readonly state: State,
    private readonly parent: Gadget,
    private readonly log: Logger,
    private readonly client: Client,
    private readonly context: Context,
  ) {}
  async reconcile(ctx: Context, client: Client, parent: Gadget): Promise<Result> {
    expect(this.state).to.equal(fetchState(ctx));
    expect(this.parent).to.equal(parent);
    expect(this.client).to.equal(client);
    expect(this.context).to.equal(ctx);
    expect(this.log).to.be.an.instanceOf(Object);
    this.plan.owner = parent.metadata!.name!;
    trace.push(`first:${parent.metadata!.name}`);
    await gates.get(parent.metadata!.name!)?.promise;
    fetchState(ctx).updateContext(labelBinder.bindToContext(ctx, `label-of-${parent.metadata!.name}`));
    return {};
  }
}

@Parent(Gadget) @Reconciles(20) @Owns(V1ConfigMap)
class SecondStep implements Reconciler<Gadget> {
  constructor(private readonly plan: GadgetPlan) {}
  async reconcile(_ctx: Context, _client: Client, parent: Gadget): Promise<Result> {
    trace.push(`second:${parent.metadata!.name}:${this.plan.owner}`);
    return { requeueAfter: 1000 };
  }
}

@Parent(Gadget) @Finalizer('test.maestro.dev/cleanup')
class GadgetCleanup {
  constructor(private readonly plan: GadgetPlan) {}
  async cleanup(_ctx: Context, _client: Client, parent: Gadget): Promise<Result> {
    trace.push(`cleanup:${parent.metadata!.name}:${this.plan instanceof GadgetPlan}`);
    return {};
  }
}

const written: Record<string, Condition[]> = {};
@Parent(Gadget) @StatusConditions()
class GadgetConditions {
  constructor(private readonly counter: Counter) {}
  async handleStatusConditions(_ctx: Context, _client: Client, parent: Gadget, conditions: Condition[]): Promise<void> {
    written[parent.metadata!.name!] = conditions;
  }
}

describe('Decorator-based assembly (specs, injection and the reconcile pipeline)', () => {
  let root: DependencyContainer;
  let client: FakeClient;
  let spec: ParentSpec<Gadget>;
  let pipeline: ReconcilePipeline<Gadget>;
  const conduct = (parent: Gadget) => pipeline.reconcile({ ctx: Context.background(), parent, client: client.forParent(parent), logger: noopLogger });

  beforeEach(() => {
    trace.length = 0;
    gates.clear();
    for (const key of Object.keys(written)) delete written[key];
    root = globalContainer.createChildContainer();
    root.registerSingleton(Counter);
    client = new FakeClient();
    const parents = buildSpecs({ components: [ThirdStep, GadgetCleanup, SecondStep, FirstStep, GadgetConditions] }).parents;
    expect(parents).to.have.length(1);
    spec = parents[0] as ParentSpec as ParentSpec<Gadget>;
    const { plan, problems } = planInjection(spec, Registry.default, root);
    expect(problems).to.deep.equal([]);
    pipeline = new ReconcilePipeline(spec, {
      scopes: (parent, reconcileClient, logger) => new ReconcileScope(root, spec.type, plan, parent, reconcileClient, logger),
      readLive: (obj) => client.readLive(obj),
      events: noopEventRecorder,
    });
  });

  it('runs the reconcilers of a parent in @Reconciles order, whatever order they were listed in', async () => {
    const result = await conduct(gadget('a'));
    expect(trace).to.deep.equal(['first:a', 'second:a:a', 'third:a:a:label-of-a']);
    expect(result).to.deep.equal({ requeueAfter: 1000 });
    expect(spec.steps.map((s) => s.name)).to.deep.equal(['FirstStep', 'SecondStep', 'ThirdStep']);
    expect(spec.validation, 'the parent class has constraints').to.deep.equal({ type: Gadget, specOnly: true });
  });

  it('collects finalizers, owned kinds and the status-conditions class of the parent', async () => {
    expect(spec.finalizers).to.deep.equal(['test.maestro.dev/cleanup']);
    expect(spec.owns.map((o) => o.type)).to.deep.equal([V1ConfigMap]);
    expect(spec.watches.map((w) => [w.type, w.mapping])).to.deep.equal([[V1ConfigMap, 'owner']]);
    expect(spec.statusHandler?.type).to.equal(GadgetConditions);
    await conduct(gadget('a'));
    expect(written.a?.map((c) => [c.type, c.message])).to.deep.equal([['Ready', 'a']]);
  });

  it('gives two concurrent reconciles their own scoped services and binder values', async () => {
    gates.set('a', deferred());
    gates.set('b', deferred());
    const a = conduct(gadget('a'));
    const b = conduct(gadget('b'));
    // Both are now inside FirstStep; release them in the opposite order.
    gates.get('b')!.resolve();
    await b;
    gates.get('a')!.resolve();
    await a;
    expect(trace.filter((t) => t.startsWith('third'))).to.deep.equal(['third:b:b:label-of-b', 'third:a:a:label-of-a']);
    expect(trace.filter((t) => t.startsWith('second'))).to.deep.equal(['second:b:b', 'second:a:a']);
  });

  it('creates one scoped instance per reconcile, shared by its reconcilers, and disposes it afterwards', async () => {
    const before = GadgetPlan.created;
    const instances: GadgetPlan[] = [];
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called back with .call(this) below
    const original = GadgetPlan.prototype.dispose;
    GadgetPlan.prototype.dispose = function (this: GadgetPlan) { instances.push(this); original.call(this); };
    try {
      await conduct(gadget('a'));
      await conduct(gadget('a'));
    } finally {
      GadgetPlan.prototype.dispose = original;
    }
    expect(GadgetPlan.created - before).to.equal(2);
    expect(instances).to.have.length(2);
    expect(instances[0]).not.to.equal(instances[1]);
    expect(instances.every((p) => p.disposed)).to.equal(true);
  });

  it('keeps the singletons the user registered as singletons', async () => {
    await conduct(gadget('a'));
    await conduct(gadget('b'));
    expect(root.resolve(Counter).count).to.equal(2);
  });

  it('validates the spec before any reconciler: an invalid spec sets Ready=False/InvalidSpec listing each violation and runs nothing', async () => {
    const err = await conduct(gadget('bad', { image: 'UPPER case', replicas: 50 })).then(() => undefined, (e: unknown) => e);
    expect(trace).to.deep.equal([]);
    expect(err).to.be.instanceOf(ReconcilerError);
    expect((err as ReconcilerError).cause).to.be.instanceOf(TerminalError);
    const ready = written.bad?.find((c) => c.type === 'Ready');
    expect(ready).to.include({ status: 'False', reason: 'InvalidSpec' });
    expect(ready!.message).to.contain('spec.image (matches)').and.contain('spec.replicas (max)').and.contain('replicas must not be greater than 10');
  });

  it('reports a missing spec field as a violation too', async () => {
    await conduct(gadget('partial', { image: 'nginx' })).catch(() => undefined);
    expect(written.partial?.find((c) => c.type === 'Ready')?.message).to.match(/spec\.replicas \((isInt|min|max)\)/);
  });

  it('adds missing finalizers after validation and before the first reconciler, updating the parent in place', async () => {
    const stored = await client.create(gadget('fresh', undefined, []));
    client.calls.length = 0;
    await conduct(stored);
    expect(client.calls[0]).to.equal('patch Gadget/default/fresh');
    expect((await client.get(Gadget, { namespace: 'default', name: 'fresh' })).metadata?.finalizers).to.deep.equal(['test.maestro.dev/cleanup']);
    expect(trace[0]).to.equal('first:fresh');
    client.calls.length = 0;
    await conduct(gadget('bad', { image: 'BAD', replicas: 1 }, [])).catch(() => undefined);
    expect(client.calls, 'an invalid parent gets no finalizer').to.deep.equal([]);
  });

  it('resolves the cleanup class of a finalizer with the same injection, then removes the finalizer', async () => {
    const created = await client.create(gadget('gone'));
    await client.delete(created);
    const deleting = await client.get(Gadget, { namespace: 'default', name: 'gone' });
    expect(deleting.metadata?.deletionTimestamp, 'the finalizer holds the object').to.be.instanceOf(Date);
    await conduct(deleting);
    expect(trace).to.deep.equal(['cleanup:gone:true']);
    expect(client.objects(Gadget).map((g) => g.metadata?.name), 'gone once its finalizer was removed').to.deep.equal([]);
  });

  it('discovers decorated classes in the order their modules declared them', () => {
    const found = discoveredComponents();
    const mine = found.filter((c) => [FirstStep, SecondStep, ThirdStep, GadgetCleanup, GadgetConditions].includes(c as never));
    expect(mine).to.deep.equal([ThirdStep, FirstStep, SecondStep, GadgetCleanup, GadgetConditions]);
  });
});

describe('Operator configuration errors (reported by createOperator, before any reconcile)', () => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:1', skipTLSVerify: true }], users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }], currentContext: 'none',
  });
  const create = (reconcilers: ComponentClass[], container = globalContainer.createChildContainer()) =>
    createOperator({ reconcilers, container, kubeConfig, logger: noopLogger, server: false });
  const problemsOf = (classes: ComponentClass[]): readonly string[] => {
    try {
      create(classes);
    } catch (err) {
      expect(err).to.be.instanceOf(OperatorConfigurationError).and.have.property('code', 'OperatorConfiguration');
      return (err as OperatorConfigurationError).problems;
    }
    throw new Error('expected an OperatorConfigurationError');
  };

  it('rejects @Reconciles without @Parent', () => {
    @Reconciles(1) class Orphan { async reconcile() { return {}; } }
    expect(problemsOf([Orphan])).to.deep.equal(['Orphan has @Reconciles(1) but no @Parent(Type)']);
  });

  it('rejects two reconcilers of one parent with the same order, naming both', () => {
    @Parent(Gadget) @Reconciles(7) class One { async reconcile() { return {}; } }
    @Parent(Gadget) @Reconciles(7) class Two { async reconcile() { return {}; } }
    expect(problemsOf([One, Two])).to.deep.equal(['One and Two both reconcile Gadget at order 7; give each a distinct @Reconciles order']);
  });

  it('rejects a class that is not a Maestro component', () => {
    class Plain { async reconcile() { return {}; } }
    expect(problemsOf([Plain])[0]).to.match(/^Plain is not a Maestro component/);
  });

  it('rejects a class that is not injectable because its type metadata is missing', () => {
    class NoMetadata { constructor(readonly dep: unknown) {} async reconcile() { return {}; } }
    Reconciles(3)(NoMetadata);
    Parent(Gadget)(NoMetadata);
    expect(problemsOf([NoMetadata])[0]).to.match(/^NoMetadata is not injectable: its constructor takes 1 parameter\(s\) but has no type metadata/);
  });

  it('rejects a parent type with no known group/version/kind', () => {
    class NotAResource { metadata?: V1ObjectMeta; }
    @Parent(NotAResource) @Reconciles(1) class Reconciling { async reconcile() { return {}; } }
    expect(problemsOf([Reconciling])[0]).to.match(/^parent NotAResource of Reconciling: NotAResource is not a known Kubernetes resource/);
  });

  it('names the class and parameter of a constructor dependency nobody provides', () => {
    interface Mailer { send(): void }
    class Unregistered { constructor(readonly url: string) {} }
    @Parent(Gadget) @Reconciles(1) class NeedsThings {
      constructor(readonly mailer: Mailer, readonly other: Unregistered, @inject('db') readonly db: object) {}
      async reconcile() { return {}; }
    }
    expect(problemsOf([NeedsThings])).to.deep.equal([
      'NeedsThings constructor parameter #0 (Object) has no provider: interfaces and primitive types carry no runtime type; inject a class, or use @inject(token) / @Bound(binder)',
      'Unregistered is not injectable: its constructor takes 1 parameter(s) but has no type metadata (decorate it, and compile with tsc and emitDecoratorMetadata: esbuild-based runners drop the metadata)',
      'NeedsThings constructor parameter #2 (db) has no provider: register the token in the container passed to createOperator()',
    ]);
  });

  it('accepts a dependency the user registered in the container', () => {
    @Parent(Gadget) @Reconciles(1) class UsesDb { constructor(@inject('db') readonly db: object) {} async reconcile() { return {}; } }
    const container = globalContainer.createChildContainer();
    container.register('db', { useValue: {} });
    expect(create([UsesDb], container).spec.parents).to.have.length(1);
  });

  it('lists every problem at once', () => {
    @Reconciles(1) class A { async reconcile() { return {}; } }
    @Reconciles(2) class B { async reconcile() { return {}; } }
    expect(problemsOf([A, B])).to.have.length(2);
  });

  it('rejects an optimizeForSize that is not a boolean or { untilHeapGrowthMiB \u2265 0 } at start(), before it changes the process', async () => {
    @Parent(Gadget) @Reconciles(1) class Step { async reconcile() { return {}; } }
    const operator = create([Step]);
    const signals = process.listenerCount('SIGTERM');
    const given = [{ untilHeapGrowthMiB: -1 }, { untilHeapGrowthMiB: Number.NaN }, { untilHeapGrowthMiB: '64' }, { untilHeapGrowth: 8 }, [], null, 'yes'];
    const problems = [];
    for (const optimizeForSize of given) {
      const err = await operator.start({ optimizeForSize: optimizeForSize as never }).then(() => undefined, (e: unknown) => e);
      expect(err, JSON.stringify(optimizeForSize)).to.be.instanceOf(OperatorConfigurationError);
      problems.push((err as OperatorConfigurationError).problems[0]);
    }
    expect(problems).to.deep.equal([
      'start({ optimizeForSize: { untilHeapGrowthMiB } }) must be a number of MiB, 0 or more (Infinity: always), not -1',
      'start({ optimizeForSize: { untilHeapGrowthMiB } }) must be a number of MiB, 0 or more (Infinity: always), not NaN',
      'start({ optimizeForSize: { untilHeapGrowthMiB } }) must be a number of MiB, 0 or more (Infinity: always), not "64"',
      'start({ optimizeForSize }) knows only untilHeapGrowthMiB, not untilHeapGrowth',
      'start({ optimizeForSize }) must be true, false or { untilHeapGrowthMiB }, not []',
      'start({ optimizeForSize }) must be true, false or { untilHeapGrowthMiB }, not null',
      'start({ optimizeForSize }) must be true, false or { untilHeapGrowthMiB }, not "yes"',
    ]);
    expect(process.listenerCount('SIGTERM'), 'no signal handler left behind').to.equal(signals);
  });
});

describe('Dependency injection per parent', () => {
  it('provides a binder and a @Scoped service only in the reconciles of parents whose components use them', () => {
    const registry = new Registry();
    const { Resource: Declare, Parent: ParentOf, Reconciles: Step, Scoped: PerReconcile, Bound: From } = decoratorsFor(registry);
    const planned = new StaticBindable<string>('planned');
    @PerReconcile() class Notes { lines: string[] = []; }
    @Declare({ group: 'di.maestro.dev', version: 'v1', kind: 'Alpha' }) class Alpha { metadata?: V1ObjectMeta; }
    @Declare({ group: 'di.maestro.dev', version: 'v1', kind: 'Beta' }) class Beta { metadata?: V1ObjectMeta; }
    @ParentOf(Alpha) @Step(1) class UsesBoth { constructor(readonly notes: Notes, @From(planned) readonly plan: string) {} async reconcile() { return {}; } }
    @ParentOf(Beta) @Step(1) class UsesNeither { constructor(readonly log: Logger) {} async reconcile() { return {}; } }
    const spec = buildSpecs({ registry, components: [UsesBoth, UsesNeither] });
    const plans = spec.parents.map((parent) => [parent.name, planInjection(parent, registry, globalContainer.createChildContainer())] as const);
    expect(plans.map(([name, { plan, problems }]) => [name, plan.binders.map((b) => b.name), plan.scoped.map((s) => s.name), problems])).to.deep.equal([
      ['alpha', ['planned'], ['Notes'], []],
      ['beta', [], [], []],
    ]);
  });
});
