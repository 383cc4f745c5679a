// Finalizers after a delete that raced the finalizer being added (kubernetes/kubernetes#77988):
// which deleted parents missed their cleanup, and the cleanup of one that is gone. The
// runtime's answer against a real API server is fault 10 (test/faults/scenarios).
import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { noopLogger } from '../../lib/conductor/index.js';
import { Finalizers } from '../../lib/runtime/finalizers.js';
import { FakeClient } from '../../lib/testing/index.js';

const OURS = 'sites.example.com/dns';
const deleted = (metadata: KubernetesObject['metadata']) =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web', namespace: 'ns', uid: 'u-1', ...metadata } }) as KubernetesObject & { metadata: NonNullable<KubernetesObject['metadata']> };

describe('Finalizers: parents deleted before their cleanup ran', () => {
  const finalizers = new Finalizers([OURS, 'sites.example.com/cert'], ['sites.example.com/old']);

  it('recognises the state the API server deletes in the race: our finalizer, no deletionTimestamp', () => {
    expect(finalizers.missedCleanup(deleted({ finalizers: [OURS] }))).to.equal(true);
    expect(finalizers.missedCleanup(deleted({ finalizers: ['other.dev/x', 'sites.example.com/cert'] }))).to.equal(true);
  });

  it('not a deletion that went the usual way (marked first), nor one without our finalizers', () => {
    const marked = new Date('2026-12-04T00:00:00Z');
    // The last state persisted before the removal of the last finalizer deleted it; or our
    // finalizer removed by hand to skip the cleanup on purpose: both are marked.
    expect(finalizers.missedCleanup(deleted({ finalizers: [OURS], deletionTimestamp: marked }))).to.equal(false);
    expect(finalizers.missedCleanup(deleted({ finalizers: [] }))).to.equal(false);
    expect(finalizers.missedCleanup(deleted({}))).to.equal(false);
    expect(finalizers.missedCleanup(deleted({ finalizers: ['sites.example.com/old', 'other.dev/x'] })), 'a retired one needs no cleanup').to.equal(false);
  });

  it('runs the cleanup of each of our finalizers on a parent that is gone, in order, and writes nothing', async () => {
    const client = new FakeClient();
    const ran: string[] = [];
    const result = await finalizers.finalize(deleted({ finalizers: ['sites.example.com/cert', 'sites.example.com/old', OURS] }), client, async (f) => {
      ran.push(f);
      return {};
    }, noopLogger, { gone: true });
    expect(result).to.deep.equal({});
    expect(ran, 'declaration order; the retired one has no cleanup').to.deep.equal([OURS, 'sites.example.com/cert']);
    expect(client.actions, 'no removal is attempted on an object that is gone').to.deep.equal([]);
  });

  it('a failed cleanup of a parent that is gone is retried without running the ones that succeeded again', async () => {
    const client = new FakeClient();
    const ran: string[] = [];
    const parent = deleted({ finalizers: [OURS, 'sites.example.com/cert'] });
    const cleanup = async (f: string) => {
      ran.push(f);
      if (f === 'sites.example.com/cert' && ran.length === 2) throw new Error('certificate authority unreachable');
      return {};
    };
    await finalizers.finalize(parent, client, cleanup, noopLogger, { gone: true }).then(() => expect.fail('the failure should reach the caller'), (err: Error) => {
      expect(err.message).to.equal('certificate authority unreachable');
    });
    await finalizers.finalize(parent, client, cleanup, noopLogger, { gone: true });
    expect(ran).to.deep.equal([OURS, 'sites.example.com/cert', 'sites.example.com/cert']);
    expect(client.actions).to.deep.equal([]);
  });
});
