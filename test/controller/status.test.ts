import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiError, Context, type Condition } from '../../lib/index.js';
import { defaultStatusHandler, defineResource, resourceOf } from '../../lib/runtime/index.js';
import { FakeClient } from '../../lib/testing/index.js';

class Thing {}
defineResource(Thing, { group: 'test.maestro.dev', version: 'v1', kind: 'StatusThing' });
const resource = resourceOf(Thing);

const at = new Date('2026-01-01T00:00:00Z');
const ready = (status: Condition['status'], reason = 'R'): Condition => ({ type: 'Ready', status, reason, message: '', observedGeneration: 1, lastTransitionTime: at });

type WithStatus = KubernetesObject & { status?: { conditions?: unknown[]; observedGeneration?: number } };

describe('the default status-conditions handler', () => {
  let client: FakeClient;
  let thing: WithStatus;
  beforeEach(async () => {
    client = new FakeClient();
    thing = await client.create<WithStatus>({ apiVersion: 'test.maestro.dev/v1', kind: 'StatusThing', metadata: { name: 't', namespace: 'n' } });
  });
  const handler = () => defaultStatusHandler(resource, (obj) => client.get(Thing, { name: obj.metadata!.name!, namespace: obj.metadata!.namespace }));

  it('writes conditions and observedGeneration through the status subresource', async () => {
    client.calls.length = 0;
    await handler()(Context.background(), client, thing, [ready('True')]);
    expect(client.calls).to.deep.equal(['status-patch StatusThing/n/t']);
    const stored = await client.get<WithStatus>(Thing, { name: 't', namespace: 'n' });
    expect(stored.status?.observedGeneration).to.equal(1);
    expect(stored.status?.conditions).to.deep.equal([{ type: 'Ready', status: 'True', reason: 'R', message: '', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }]);
    expect(thing.metadata?.resourceVersion, 'the parent follows the new version').to.equal(stored.metadata?.resourceVersion);
  });

  it('writes nothing when neither the conditions nor the generation changed', async () => {
    await handler()(Context.background(), client, thing, [ready('True')]);
    const stored = await client.get<WithStatus>(Thing, { name: 't', namespace: 'n' });
    client.calls.length = 0;
    await handler()(Context.background(), client, stored, [ready('True')]);
    expect(client.calls).to.deep.equal([]);
  });

  it('retries a conflict on a fresh read, keeping conditions others wrote meanwhile', async () => {
    const stale = structuredClone(thing);
    await client.status().patch(thing, { status: { conditions: [{ type: 'External', status: 'True', reason: 'X', message: '', lastTransitionTime: at.toISOString() }] } });
    await handler()(Context.background(), client, stale, [ready('True')]);
    const stored = await client.get<WithStatus>(Thing, { name: 't', namespace: 'n' });
    expect((stored.status?.conditions as Condition[]).map((c) => c.type)).to.deep.equal(['External', 'Ready']);
  });

  it('gives up after five conflicts with the API error', async () => {
    const failing = new FakeClient();
    failing.status = () => ({ update: async () => { throw new Error('unused'); }, patch: async () => { throw new ApiError(409, 'conflict', { reason: 'Conflict' }); } }) as never;
    let reads = 0;
    const handlerFor = defaultStatusHandler(resource, async (obj) => { reads++; return obj; });
    const err = await handlerFor(Context.background(), failing, thing, [ready('True')]).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError).and.have.property('statusCode', 409);
    expect(reads).to.equal(4);
  });
});
