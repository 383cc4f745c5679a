// The code examples of the original conductor README, in TypeScript, run as tests.
import { expect } from 'chai';
import { V1Deployment, V1Pod, type V1ObjectMeta } from '@kubernetes/client-node';
import {
  Context, StaticBindable, fetchState, forParent, noopLogger,
  type Client, type Condition, type Reconciler, type Result,
} from '../../lib/conductor/index.js';
import { defineResource } from '../../lib/declare/index.js';
import { FakeClient } from '../../lib/testing/index.js';

// "MyParent" of the README: a custom resource with status conditions.
class MyParent {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  status?: { conditions?: Condition[] };
}
defineResource(MyParent, { group: 'example.com', version: 'v1', kind: 'MyParent' });

describe('The original README examples', () => {
  it('status condition handling: a reconciler adds MyCondition and the handler persists it through the status subresource', async () => {
    class MyReconciler implements Reconciler<MyParent> {
      async reconcile(ctx: Context, _client: Client, _parent: MyParent): Promise<Result> {
        const state = fetchState(ctx);
        state.addCondition({ type: 'MyCondition', status: 'True', reason: 'ConditionReason', message: 'Custom condition message' });
        return {};
      }
    }
    const client = new FakeClient();
    const parent = await client.create<MyParent>({ apiVersion: 'example.com/v1', kind: 'MyParent', metadata: { name: 'my-parent', namespace: 'default' } });
    const ctx = Context.background();
    const conductor = forParent(MyParent)
      .withClient(client)
      .withContext(ctx)
      .withLogger(noopLogger)
      .withStatusConditionsHandler(async (ctx: Context, client: Client, parent: MyParent, conditions: Condition[]) => {
        parent.status = { ...parent.status, conditions };
        await client.status().update(parent);
      })
      .build();
    conductor.register(new MyReconciler());

    const result = await conductor.conduct(ctx, parent);

    expect(result).to.deep.equal({});
    const stored = await client.get(MyParent, { namespace: 'default', name: 'my-parent' });
    expect(stored.status?.conditions).to.have.length(1);
    expect(stored.status!.conditions![0]).to.include({
      type: 'MyCondition', status: 'True', reason: 'ConditionReason', message: 'Custom condition message', observedGeneration: 1,
    });
    expect(stored.metadata?.generation, 'a status write does not bump the generation').to.equal(1);
  });

  it('custom state management: one reconciler binds MyCustomState, a later one reads it', async () => {
    interface MyCustomState { data: string }
    const myCustomStateBinder = new StaticBindable<MyCustomState>('MyCustomState');
    const printed: string[] = [];

    class MyReconciler implements Reconciler<MyParent> {
      async reconcile(ctx: Context): Promise<Result> {
        const customState: MyCustomState = { data: 'some data' };
        const bound = myCustomStateBinder.bindToContext(ctx, customState);
        const state = fetchState(bound);
        state.updateContext(bound);
        return {};
      }
    }
    class AnotherReconciler implements Reconciler<MyParent> {
      async reconcile(ctx: Context): Promise<Result> {
        const customState = myCustomStateBinder.fromContext(ctx);
        printed.push(customState.data);
        return {};
      }
    }

    const conductor = forParent(MyParent).withClient(new FakeClient()).build()
      .register(new MyReconciler())
      .register(new AnotherReconciler());
    await conductor.conduct(Context.background(), { apiVersion: 'example.com/v1', kind: 'MyParent', metadata: { name: 'p' } });
    expect(printed).to.deep.equal(['some data']);
  });

  it('Deployment and Pods: a PodReconciler inspects the pods and reports PodReconciled; the handler updates the Deployment', async () => {
    const client = new FakeClient();
    const deployment = await client.create<V1Deployment>({
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } } } },
    });
    for (const name of ['web-1', 'web-2']) {
      await client.create<V1Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' } } });
    }
    await client.create<V1Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other', namespace: 'default', labels: { app: 'db' } } });

    class PodReconciler implements Reconciler<V1Deployment> {
      async reconcile(ctx: Context, client: Client, deployment: V1Deployment): Promise<Result> {
        const pods = await client.list(V1Pod, {
          namespace: deployment.metadata!.namespace!,
          labelSelector: deployment.spec!.selector.matchLabels!,
        });
        const state = fetchState(ctx);
        state.addCondition({
          type: 'PodReconciled', status: 'True', reason: 'PodsReconciled',
          message: `All ${pods.length} Pods have been reconciled`,
        });
        return {};
      }
    }

    const conductor = forParent(V1Deployment)
      .withClient(client)
      .withStatusConditionsHandler(async (_ctx, client, deployment, conditions) => {
        await client.status().patch(deployment, {
          status: { conditions: conditions.map((c) => ({ ...c, lastTransitionTime: c.lastTransitionTime.toISOString() })) },
        });
      })
      .build();
    conductor.register(new PodReconciler());

    const result = await conductor.conduct(Context.background(), deployment);

    expect(result).to.deep.equal({});
    const stored = await client.get(V1Deployment, { namespace: 'default', name: 'web' });
    expect(stored.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message])).to.deep.equal([
      ['PodReconciled', 'True', 'PodsReconciled', 'All 2 Pods have been reconciled'],
    ]);
  });
});
