// What objects can send, through the reconcile pipeline on the fake client (reconcileOnce):
// validation that throws, messages beyond the API's limit, a child another object controls,
// and the options that bound what the runtime accepts.
import 'reflect-metadata';
import { expect } from 'chai';
import { KubeConfig, V1ConfigMap, type V1ObjectMeta } from '@kubernetes/client-node';
import { IsString, ValidateNested } from 'class-validator';
import { Transform } from 'class-transformer';
import { decoratorsFor } from '../../decorators/index.js';
import { OperatorConfigurationError, createOperator, fetchState, type Client, type Condition, type Context, type Reconciler, type Result } from '../../lib/index.js';
import { Registry } from '../../lib/runtime/index.js';
import { FakeClient, reconcileOnce } from '../../lib/testing/index.js';
import { API_LIMITS } from '../../lib/limits/index.js';

const registry = new Registry();
const { Resource, Parent, Reconciles, Owns } = decoratorsFor(registry);

class PartSpec {
  // A transform that throws on input it does not expect (as user code may): validation itself fails.
  @Transform(({ value }) => { if (value === 'explode') throw new TypeError('cannot read properties of undefined'); return value as unknown; })
  @IsString() message!: string;
}

@Resource({ group: 'hostile.maestro.dev', version: 'v1', kind: 'Part' })
class Part {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @ValidateNested() spec!: PartSpec;
  status?: { conditions?: Condition[] };
}

@Parent(Part) @Reconciles(10) @Owns(V1ConfigMap)
class PartReconciler implements Reconciler<Part> {
  async reconcile(ctx: Context, client: Client, part: Part): Promise<Result> {
    if (part.spec.message.startsWith('long')) throw new Error(`é${'x'.repeat(100_000)}`);
    await client.apply<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared' }, data: { from: part.metadata!.name! } });
    fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Applied' });
    return {};
  }
}

const part = (name: string, message: string, status?: Part['status']): Part =>
  ({ apiVersion: 'hostile.maestro.dev/v1', kind: 'Part', metadata: { name, namespace: 'default' }, spec: { message }, ...(status ? { status } : {}) });

const ready = (conditions: Condition[]) => conditions.find((c) => c.type === 'Ready');

describe('the pipeline against hostile input (fake client)', () => {
  it('reports validation that throws as Ready=False/InvalidSpec, terminally', async () => {
    const { conditions, error, events } = await reconcileOnce(Part, part('boom', 'explode'), { registry });
    expect(ready(conditions)).to.include({ status: 'False', reason: 'InvalidSpec' });
    expect(ready(conditions)!.message).to.equal('the object cannot be validated: TypeError: cannot read properties of undefined');
    expect(events.map((e) => [e.type, e.reason])).to.deep.include(['Warning', 'InvalidSpec']);
    expect((error as { cause?: { code?: string } }).cause?.code).to.equal('Terminal');
  });

  it('truncates condition messages to the API\u2019s limit: a failure\u2019s and one read back from the object', async () => {
    const theirs = { type: 'Theirs', status: 'True', reason: 'Long', message: 'é'.repeat(40_000), lastTransitionTime: new Date('2026-01-01T00:00:00Z') };
    const { conditions } = await reconcileOnce(Part, part('long', 'long', { conditions: [theirs as Condition] }), { registry });
    for (const condition of conditions) {
      expect(Buffer.byteLength(condition.message, 'utf8'), condition.type).to.be.at.most(API_LIMITS.conditionMessage);
      expect(condition.message, condition.type).to.match(/ \.\.\.$/);
    }
    expect(ready(conditions)).to.include({ status: 'False', reason: 'ReconcileError' });
    expect(conditions.map((c) => c.type)).to.deep.equal(['Theirs', 'Ready']);
  });

  it('refuses to apply a child another object controls: Ready=False/AlreadyOwned naming the owner, no write to the child', async () => {
    const client = new FakeClient({ registry });
    const first = await reconcileOnce(Part, part('first', 'one'), { registry, client });
    expect(ready(first.conditions)?.status).to.equal('True');
    const child = client.objects(V1ConfigMap)[0]!;
    const second = await reconcileOnce(Part, part('second', 'two'), { registry, client });
    expect(ready(second.conditions)).to.include({ status: 'False', reason: 'AlreadyOwned' });
    expect(ready(second.conditions)!.message).to.contain('Part first');
    const after = client.objects(V1ConfigMap)[0]!;
    expect(after.metadata!.resourceVersion, 'the child was not written').to.equal(child.metadata!.resourceVersion);
    expect(after.data).to.deep.equal({ from: 'first' });
    expect(second.events.map((e) => [e.type, e.reason])).to.deep.include(['Warning', 'AlreadyOwned']);
  });
});

describe('createOperator(): the options that bound what the runtime accepts', () => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser({ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }, { name: 'u' });

  it('rejects object limits outside their range and retired finalizers that are invalid or still declared', () => {
    let caught: unknown;
    try {
      createOperator({
        registry, reconcilers: [PartReconciler], kubeConfig,
        objectLimits: { maxDepth: 5_000, maxBytes: -1 },
        retiredFinalizers: ['not a finalizer'],
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(OperatorConfigurationError);
    const message = (caught as Error).message;
    expect(message).to.contain('objectLimits.maxDepth must be an integer from 1 to 1000, got 5000');
    expect(message).to.contain('objectLimits.maxBytes must be a positive integer, got -1');
    expect(message).to.contain('retiredFinalizers: "not a finalizer" is not a finalizer name');
  });
});
