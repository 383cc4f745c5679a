// The default status handler and a cache that has not seen its previous write yet: the
// newest conditions must still reach the server (a lost update otherwise, since status-only
// changes trigger no reconcile). Seen in the demo: a Deployment deleted and recreated made
// two reconciles in a row report Available=False then True, and the second was skipped.
import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Context, type Condition } from '../../lib/index.js';
import { defaultStatusHandler, defineResource, resourceOf } from '../../lib/runtime/index.js';
import { FakeClient } from '../../lib/testing/index.js';

class StaleThing {}
defineResource(StaleThing, { group: 'test.maestro.dev', version: 'v1', kind: 'StaleThing' });
const resource = resourceOf(StaleThing);

const at = new Date('2026-01-01T00:00:00Z');
const available = (status: Condition['status']): Condition => ({ type: 'Available', status, reason: status === 'True' ? 'Up' : 'Down', message: '', observedGeneration: 1, lastTransitionTime: at });

type WithStatus = KubernetesObject & { status?: { conditions?: Array<{ type: string; status: string }> } };

describe('the default status-conditions handler with a stale cache', () => {
  it("writes conditions that only the cache's stale copy already shows", async () => {
    const client = new FakeClient();
    const read = (): Promise<WithStatus> => client.get<WithStatus>(StaleThing, { name: 't', namespace: 'n' });
    await client.create<WithStatus>({ apiVersion: 'test.maestro.dev/v1', kind: 'StaleThing', metadata: { name: 't', namespace: 'n' } });
    const handler = defaultStatusHandler(resource, () => read());
    await handler(Context.background(), client, await read(), [available('True')]);
    const cached = await read(); // what the cache holds from here on: Available=True

    await handler(Context.background(), client, structuredClone(cached), [available('False')]);
    expect((await read()).status?.conditions?.[0]?.status).to.equal('False');
    // The next reconcile still gets the copy from before that write.
    const stale = structuredClone(cached);
    await handler(Context.background(), client, stale, [available('True')]);

    const stored = await read();
    expect(stored.status?.conditions?.[0]).to.include({ type: 'Available', status: 'True', reason: 'Up' });
    expect(stale.metadata?.resourceVersion, 'the parent follows the version written').to.equal(stored.metadata?.resourceVersion);
  });
});
