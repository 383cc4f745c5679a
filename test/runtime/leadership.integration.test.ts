// Leadership lost and regained while busy (issue #10, defect 1), on a control plane of its
// own: the API server is stopped for 6 s while two slow reconciles are in flight.
import 'reflect-metadata';
import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { CustomObjectsApi, type V1CustomResourceDefinition, type V1ObjectMeta } from '@kubernetes/client-node';
import { decoratorsFor } from '../../decorators/index.js';
import { createOperator, fetchState, type Client, type Condition, type Context, type Operator, type Reconciler, type Result } from '../../lib/index.js';
import { Registry } from '../../lib/runtime/index.js';
import { startControlPlane, type ControlPlane } from '../../lib/testing/index.js';
import { testLogger } from '../support/operators.js';
import { eventually } from '../support/wait.js';

const registry = new Registry();
const { Resource, Parent, Reconciles } = decoratorsFor(registry);

@Resource({ group: 'leader.maestro.dev', version: 'v1', kind: 'Chore' })
class Chore {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: { task?: string };
  status?: { conditions?: Condition[] };
}

interface Start { key: string; at: number; leading: boolean; aborted: boolean }

/** What the slow reconciler saw: every start (with whether the operator led), and which reconciles were cancelled. */
const record = {
  operator: undefined as Operator | undefined,
  starts: [] as Start[],
  inFlight: new Set<string>(),
  overlaps: [] as string[],
  cancelled: [] as Array<{ key: string; at: number }>,
};

const WORK_MS = 1500;

@Parent(Chore) @Reconciles(10)
class SlowChore implements Reconciler<Chore> {
  async reconcile(ctx: Context, _client: Client, chore: Chore): Promise<Result> {
    const key = chore.metadata!.name!;
    record.starts.push({ key, at: Date.now(), leading: record.operator?.isLeader ?? false, aborted: ctx.aborted });
    if (record.inFlight.has(key)) record.overlaps.push(key);
    record.inFlight.add(key);
    try {
      await delay(WORK_MS, undefined, { signal: ctx.signal }).catch((err: unknown) => {
        record.cancelled.push({ key, at: Date.now() });
        throw err;
      });
      fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Done', message: 'chore done' });
      return {};
    } finally {
      record.inFlight.delete(key);
    }
  }
}

function choreCRD(): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'chores.leader.maestro.dev' },
    spec: {
      group: 'leader.maestro.dev',
      scope: 'Namespaced',
      names: { plural: 'chores', singular: 'chore', kind: 'Chore' },
      versions: [{
        name: 'v1', served: true, storage: true, subresources: { status: {} },
        schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
      }],
    },
  };
}

describe('Leadership lost and regained while busy', function () {
  this.timeout(240_000);
  let plane: ControlPlane;
  let operator: Operator | undefined;

  before(async () => {
    plane = await startControlPlane();
    await plane.installCRDs([choreCRD()]);
  });
  after(async () => {
    await operator?.stop();
    await plane?.stop();
  });

  it('cancels the reconciles in flight on losing the Lease, starts none while not leading, and works again after re-acquiring it', async () => {
    const ns = await plane.createNamespace('leadership');
    const api = plane.kubeConfig.makeApiClient(CustomObjectsApi);
    const create = (name: string) => api.createNamespacedCustomObject({
      group: 'leader.maestro.dev', version: 'v1', namespace: ns, plural: 'chores',
      body: { apiVersion: 'leader.maestro.dev/v1', kind: 'Chore', metadata: { name }, spec: { task: name } },
    });
    const readyOf = async (name: string) => {
      const chore = await api.getNamespacedCustomObject({ group: 'leader.maestro.dev', version: 'v1', namespace: ns, plural: 'chores', name }) as Chore;
      return chore.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    };

    operator = createOperator({
      name: 'chore-operator', registry, reconcilers: [SlowChore], kubeConfig: plane.kubeConfig, namespaces: [ns],
      leaderElection: { namespace: ns, leaseName: 'chore-operator', leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
      maxConcurrentReconciles: 2, server: false, logger: testLogger(), gracefulShutdownMs: 10_000,
    });
    record.operator = operator;
    await operator.start({ handleSignals: false });
    expect(operator.isLeader).to.equal(true);

    const names = Array.from({ length: 8 }, (_, i) => `chore-${i}`);
    for (const name of names) await create(name);
    await eventually(() => record.inFlight.size === 2, { timeoutMs: 30_000, message: 'two reconciles in flight' });

    // The API server goes away for 6 s: renewals fail, and after the renew deadline the Lease is lost.
    const outageStarted = Date.now();
    await plane.stopAPIServer();
    await eventually(() => !operator!.isLeader, { timeoutMs: 15_000, intervalMs: 50, message: 'leadership lost' });
    const lostAt = Date.now();
    const startsAtLoss = record.starts.length;
    // Every reconcile of the lost term was cancelled and has finished: none is in flight.
    await eventually(() => record.inFlight.size === 0, { timeoutMs: 5_000, intervalMs: 50, message: 'no reconcile in flight after the loss' });
    const cancelledAtLoss = record.cancelled.filter((c) => c.at >= lostAt - 1_000);
    expect(cancelledAtLoss.length, 'the reconciles in flight saw their context cancelled').to.be.greaterThan(0);
    expect(Math.max(...cancelledAtLoss.map((c) => c.at)) - lostAt, 'cancelled at once').to.be.lessThan(2_000);
    // The outage lasts 6 s in all (the scenario's length, not a synchronisation).
    await delay(Math.max(0, 6_000 - (Date.now() - outageStarted)));
    expect(record.starts.length, 'no reconcile starts while not leading').to.equal(startsAtLoss);
    await plane.startAPIServer();

    await eventually(() => operator!.isLeader, { timeoutMs: 30_000, intervalMs: 100, message: 'leadership regained' });
    await create('after');
    await eventually(() => readyOf('after'), { timeoutMs: 60_000, message: 'the new object Ready' });
    for (const name of names) await eventually(() => readyOf(name), { timeoutMs: 60_000, message: `${name} Ready` });

    expect(record.starts.filter((s) => !s.leading || s.aborted), 'every reconcile started while leading, with a live context').to.deep.equal([]);
    expect(record.overlaps, 'never two reconciles of one object at once').to.deep.equal([]);
  });
});
