import { expect } from 'chai';
import { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { ApiError } from '../../lib/index.js';
import {
  ConductorConfigurationError, Context, ContextCanceledError, ContextKey, DeadlineExceededError,
  InvalidResultError, ReconcilerError, StatusConditionsHandlerError, fetchState, forParent, loggerFrom, mergeResults,
  noopLogger, type Client, type Condition, type Reconciler, type Result,
} from '../../lib/conductor/index.js';
import { FakeClient } from '../../lib/testing/index.js';

type Deployment = V1Deployment;

const deployment = (name = 'web', generation = 1): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default', generation },
});

/** A reconciler from a function, named for error messages. */
function step(name: string, fn: (ctx: Context, client: Client, parent: Deployment) => Promise<Result> | Result): Reconciler<Deployment> {
  const Named = { [name]: class { async reconcile(ctx: Context, client: Client, parent: Deployment) { return fn(ctx, client, parent); } } }[name]!;
  return new Named();
}

/** A promise with its resolve function, to control interleavings without sleeping. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('Conductor', () => {
  let client: FakeClient;
  beforeEach(() => { client = new FakeClient(); });

  describe('building', () => {
    it('refuses to build without a client', () => {
      expect(() => forParent(V1Deployment).build()).to.throw(ConductorConfigurationError).with.property('code', 'ConductorConfiguration');
    });

    it('refuses to register something that is not a reconciler', () => {
      const conductor = forParent(V1Deployment).withClient(client).build();
      expect(() => conductor.register({} as Reconciler<Deployment>)).to.throw(ConductorConfigurationError);
    });

    it('returns the registered reconcilers in order and registers chainably', () => {
      const a = step('A', () => ({}));
      const b = step('B', () => ({}));
      const conductor = forParent(V1Deployment).withClient(client).build().register(a).register(b);
      expect(conductor.reconcilers()).to.deep.equal([a, b]);
      expect(conductor.parentType).to.equal(V1Deployment);
    });
  });

  describe('order', () => {
    it('runs reconcilers strictly in registration order, each awaited before the next starts', async () => {
      const events: string[] = [];
      const gate = deferred();
      const conductor = forParent(V1Deployment).withClient(client).build()
        .register(step('First', async () => { events.push('first:start'); await gate.promise; events.push('first:end'); return {}; }))
        .register(step('Second', () => { events.push('second'); return {}; }))
        .register(step('Third', () => { events.push('third'); return {}; }));
      const running = conductor.conduct(Context.background(), deployment());
      await Promise.resolve();
      expect(events).to.deep.equal(['first:start']);
      gate.resolve();
      await running;
      expect(events).to.deep.equal(['first:start', 'first:end', 'second', 'third']);
    });

    it('passes the parent and the client to every reconciler', async () => {
      const seen: Array<[Client, Deployment]> = [];
      const parent = deployment();
      await forParent(V1Deployment).withClient(client).build()
        .register(step('A', (_ctx, c, p) => { seen.push([c, p]); return {}; }))
        .conduct(Context.background(), parent);
      expect(seen).to.have.length(1);
      expect(seen[0]![0]).to.equal(client);
      expect(seen[0]![1]).to.equal(parent);
    });

    it('gives later reconcilers the context a reconciler set with updateContext', async () => {
      const Color = new ContextKey<string>('color');
      let seen: string | undefined;
      await forParent(V1Deployment).withClient(client).build()
        .register(step('Binds', (ctx) => { fetchState(ctx).updateContext(ctx.withValue(Color, 'blue')); return {}; }))
        .register(step('Reads', (ctx) => { seen = ctx.value(Color); return {}; }))
        .conduct(Context.background(), deployment());
      expect(seen).to.equal('blue');
    });
  });

  describe('results', () => {
    const cases: Array<[string, Result[], Result]> = [
      ['no reconciler asks for anything', [{}, {}], {}],
      ['any requeue requeues', [{}, { requeue: true }, {}], { requeue: true }],
      ['the smallest requeueAfter wins', [{ requeueAfter: 5000 }, { requeueAfter: 1000 }, { requeueAfter: 3000 }], { requeueAfter: 1000 }],
      ['requeue and requeueAfter combine', [{ requeue: true }, { requeueAfter: 30 }], { requeue: true, requeueAfter: 30 }],
      ['a zero requeueAfter means not set', [{ requeueAfter: 0 }, { requeueAfter: 200 }], { requeueAfter: 200 }],
    ];
    for (const [name, results, expected] of cases) {
      it(`merges results: ${name}`, async () => {
        const conductor = forParent(V1Deployment).withClient(client).build();
        results.forEach((r, i) => conductor.register(step(`R${i}`, () => r)));
        expect(await conductor.conduct(Context.background(), deployment())).to.deep.equal(expected);
      });
    }

    it('exposes the merge rule as mergeResults', () => {
      expect(mergeResults({ requeueAfter: 10 }, { requeue: true, requeueAfter: 5 })).to.deep.equal({ requeue: true, requeueAfter: 5 });
    });

    it('treats a reconciler that returns nothing as done', async () => {
      const conductor = forParent(V1Deployment).withClient(client).build()
        .register({ reconcile: async () => undefined as unknown as Result });
      expect(await conductor.conduct(Context.background(), deployment())).to.deep.equal({});
    });

    it('fails with a typed error when a reconciler returns an invalid result', async () => {
      const conductor = forParent(V1Deployment).withClient(client).build()
        .register(step('Negative', () => ({ requeueAfter: -1 })));
      const err = await conductor.conduct(Context.background(), deployment()).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ReconcilerError);
      expect((err as ReconcilerError).cause).to.be.instanceOf(InvalidResultError);
      expect((err as Error).message).to.contain('requeueAfter=-1');
    });
  });

  describe('errors', () => {
    it('stops at the first error, hands the conditions so far to the handler and rejects with the cause', async () => {
      const ran: string[] = [];
      const handled: Condition[][] = [];
      const boom = new Error('image pull failed');
      const conductor = forParent(V1Deployment).withClient(client)
        .withStatusConditionsHandler(async (_ctx, _client, _parent, conditions) => { handled.push(conditions); })
        .build()
        .register(step('Plan', (ctx) => { ran.push('Plan'); fetchState(ctx).addCondition({ type: 'Planned', status: 'True', reason: 'Planned' }); return {}; }))
        .register(step('Apply', () => { ran.push('Apply'); throw boom; }))
        .register(step('Report', () => { ran.push('Report'); return {}; }));
      const err = await conductor.conduct(Context.background(), deployment()).then(() => undefined, (e: unknown) => e);
      expect(ran).to.deep.equal(['Plan', 'Apply']);
      expect(err).to.be.instanceOf(ReconcilerError).and.include({ code: 'ReconcilerFailed', reconciler: 'Apply', index: 1 });
      expect((err as ReconcilerError).cause).to.equal(boom);
      expect(handled).to.have.length(1);
      expect(handled[0]!.map((c) => [c.type, c.status, c.reason])).to.deep.equal([['Planned', 'True', 'Planned'], ['Ready', 'False', 'ReconcileError']]);
      expect(handled[0]![1]!.message).to.equal('Apply: image pull failed');
    });

    it("uses the error's own CamelCase reason for the failure condition (e.g. an API error)", async () => {
      let ready: Condition | undefined;
      await forParent(V1Deployment).withClient(client)
        .withStatusConditionsHandler(async (_c, _k, _p, conditions) => { ready = conditions.find((c) => c.type === 'Ready'); })
        .build()
        .register(step('Apply', () => { throw new ApiError(403, 'configmaps is forbidden', { reason: 'Forbidden' }); }))
        .conduct(Context.background(), deployment()).catch(() => undefined);
      expect(ready).to.include({ status: 'False', reason: 'Forbidden' });
    });

    it('adds no failure condition when the error condition type is disabled', async () => {
      let handled: Condition[] | undefined;
      await forParent(V1Deployment).withClient(client).withErrorConditionType(null)
        .withStatusConditionsHandler(async (_c, _k, _p, conditions) => { handled = conditions; })
        .build().register(step('Fails', () => { throw new Error('x'); }))
        .conduct(Context.background(), deployment()).catch(() => undefined);
      expect(handled).to.deep.equal([]);
    });

    it('keeps the reconciler error when the handler also fails, and attaches the handler error', async () => {
      const handlerFailure = new Error('status write failed');
      const err = await forParent(V1Deployment).withClient(client)
        .withStatusConditionsHandler(async () => { throw handlerFailure; })
        .build().register(step('Fails', () => { throw new Error('x'); }))
        .conduct(Context.background(), deployment()).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ReconcilerError);
      expect((err as ReconcilerError).handlerError).to.equal(handlerFailure);
    });

    it('rejects with a typed error when only the handler fails', async () => {
      const err = await forParent(V1Deployment).withClient(client)
        .withStatusConditionsHandler(async () => { throw new Error('conflict'); })
        .build().register(step('Ok', () => ({})))
        .conduct(Context.background(), deployment()).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(StatusConditionsHandlerError).and.have.property('code', 'StatusConditionsHandlerFailed');
    });

    it('is not left in a bad state by a throwing reconciler: the next conduct runs every reconciler afresh', async () => {
      let fail = true;
      const ran: string[] = [];
      const conductor = forParent(V1Deployment).withClient(client).build()
        .register(step('Flaky', () => { ran.push('Flaky'); if (fail) throw new Error('once'); return {}; }))
        .register(step('After', () => { ran.push('After'); return { requeueAfter: 100 }; }));
      await conductor.conduct(Context.background(), deployment()).catch(() => undefined);
      fail = false;
      expect(await conductor.conduct(Context.background(), deployment())).to.deep.equal({ requeueAfter: 100 });
      expect(ran).to.deep.equal(['Flaky', 'Flaky', 'After']);
    });

    it('also stops on a rejected promise that is not an Error', async () => {
      const err = await forParent(V1Deployment).withClient(client).build()
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what a reconciler rejecting with a non-Error does
        .register({ reconcile: () => Promise.reject('plain string') })
        .conduct(Context.background(), deployment()).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ReconcilerError);
      expect((err as Error).message).to.equal('reconciler reconciler#0 failed: plain string');
    });
  });

  describe('cancellation', () => {
    it('runs nothing when the context is already cancelled', async () => {
      const [ctx, cancel] = Context.background().withCancel();
      cancel();
      let ran = false;
      const err = await forParent(V1Deployment).withClient(client).build()
        .register(step('A', () => { ran = true; return {}; }))
        .conduct(ctx, deployment()).then(() => undefined, (e: unknown) => e);
      expect(ran).to.equal(false);
      expect(err).to.be.instanceOf(ContextCanceledError).and.have.property('code', 'ContextCanceled');
    });

    it('stops before the next reconciler when cancelled during one, without calling the handler', async () => {
      const [ctx, cancel] = Context.background().withCancel();
      const ran: string[] = [];
      let handled = false;
      const err = await forParent(V1Deployment).withClient(client)
        .withStatusConditionsHandler(async () => { handled = true; })
        .build()
        .register(step('Cancels', () => { ran.push('Cancels'); cancel(); return {}; }))
        .register(step('Never', () => { ran.push('Never'); return {}; }))
        .conduct(ctx, deployment()).then(() => undefined, (e: unknown) => e);
      expect(ran).to.deep.equal(['Cancels']);
      expect(handled).to.equal(false);
      expect(err).to.be.instanceOf(ContextCanceledError);
    });

    it('reports a reconciler that fails because of cancellation as cancellation, not as its failure', async () => {
      const [ctx, cancel] = Context.background().withCancel();
      const err = await forParent(V1Deployment).withClient(client).build()
        .register(step('Aborted', (c) => { cancel(); c.throwIfAborted(); return {}; }))
        .conduct(ctx, deployment()).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ContextCanceledError);
    });

    it('rejects with DeadlineExceededError once the deadline has passed', async () => {
      const ctx = Context.background().withDeadline(Date.now() - 1);
      const err = await forParent(V1Deployment).withClient(client).build()
        .register(step('A', () => ({})))
        .conduct(ctx, deployment()).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(DeadlineExceededError).and.have.property('code', 'DeadlineExceeded');
    });

    it('stops every conduct when the builder context is cancelled, and shares its values', async () => {
      const Tenant = new ContextKey<string>('tenant');
      const [base, cancel] = Context.background().withValue(Tenant, 'acme').withCancel();
      let seen: string | undefined;
      const conductor = forParent(V1Deployment).withClient(client).withContext(base).build()
        .register(step('Reads', (ctx) => { seen = ctx.value(Tenant); return {}; }));
      await conductor.conduct(Context.background(), deployment());
      expect(seen).to.equal('acme');
      cancel();
      const err = await conductor.conduct(Context.background(), deployment()).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ContextCanceledError);
    });
  });

  describe('status conditions handler', () => {
    it('is called exactly once per conduct with the conditions in a stable order', async () => {
      const calls: string[][] = [];
      const conductor = forParent(V1Deployment).withClient(client)
        .withStatusConditionsHandler(async (_c, _k, _p, conditions) => { calls.push(conditions.map((c) => c.type)); })
        .build()
        .register(step('A', (ctx) => { fetchState(ctx).addCondition({ type: 'Zeta', status: 'True', reason: 'R' }); return {}; }))
        .register(step('B', (ctx) => { fetchState(ctx).addCondition({ type: 'Alpha', status: 'True', reason: 'R' }); return {}; }))
        .register(step('C', (ctx) => { fetchState(ctx).addCondition({ type: 'Zeta', status: 'False', reason: 'R' }); return {}; }));
      await conductor.conduct(Context.background(), deployment());
      await conductor.conduct(Context.background(), deployment());
      expect(calls).to.deep.equal([['Zeta', 'Alpha'], ['Zeta', 'Alpha']]);
    });

    it('discards the conditions and writes nothing when no handler is registered', async () => {
      const parent = deployment();
      await client.create(parent);
      client.calls.length = 0;
      await forParent(V1Deployment).withClient(client).build()
        .register(step('A', (ctx) => { fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'R' }); return {}; }))
        .conduct(Context.background(), parent);
      expect(client.calls).to.deep.equal([]);
      expect(parent.status).to.equal(undefined);
    });

    it('gives concurrent conducts of different parents their own State', async () => {
      const gates = { a: deferred(), b: deferred() };
      const seen: Record<string, string[]> = {};
      const conductor = forParent(V1Deployment).withClient(client)
        .withStatusConditionsHandler(async (_c, _k, parent, conditions) => { seen[parent.metadata!.name!] = conditions.map((c) => c.reason); })
        .build()
        .register(step('Tag', async (ctx, _c, parent) => {
          const name = parent.metadata!.name as 'a' | 'b';
          fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: `For${name.toUpperCase()}` });
          await gates[name].promise;
          return {};
        }));
      const a = conductor.conduct(Context.background(), deployment('a'));
      const b = conductor.conduct(Context.background(), deployment('b'));
      gates.b.resolve();
      gates.a.resolve();
      await Promise.all([a, b]);
      expect(seen).to.deep.equal({ a: ['ForA'], b: ['ForB'] });
    });
  });

  describe('logging', () => {
    it('offers the configured logger to reconcilers through loggerFrom(ctx)', async () => {
      const lines: string[] = [];
      const logger = Object.assign(Object.create(noopLogger) as typeof noopLogger, { info: (m: string) => { lines.push(m); } });
      await forParent(V1Deployment).withClient(client).withLogger(logger).build()
        .register(step('Logs', (ctx) => { loggerFrom(ctx).info('hello'); return {}; }))
        .conduct(Context.background(), deployment());
      expect(lines).to.deep.equal(['hello']);
    });
  });

  it('works for any parent type, e.g. a ConfigMap', async () => {
    const result = await forParent(V1ConfigMap).withClient(client).build()
      .register({ reconcile: async (_ctx, _client, cm: V1ConfigMap) => ({ requeue: cm.data?.again === 'yes' }) })
      .conduct(Context.background(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { again: 'yes' } });
    expect(result).to.deep.equal({ requeue: true });
  });
});
