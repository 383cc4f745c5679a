// Events as the API server stores them: a failing object with a changing message does not
// get a new Event per retry, a storm about one object is cut off, messages fit the API.
import { expect } from 'chai';
import { CoreV1Api, V1ConfigMap, type CoreV1Event } from '@kubernetes/client-node';
import { ApiTransport } from '../../lib/client/transport.js';
import { COMBINED_PREFIX, KubeEventRecorder } from '../../lib/events/index.js';
import { Parent, Reconciles, type Reconciler, type Result } from '../../lib/index.js';
import { ExponentialFailureRateLimiter } from '../../lib/runtime/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { startOperator, stopOperators } from '../support/operators.js';
import { eventually } from '../support/wait.js';

describe('events: KubeEventRecorder on the real API server', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let core: CoreV1Api;
  let namespace: string;
  before(async () => {
    plane = await sharedControlPlane();
    core = plane.kubeConfig.makeApiClient(CoreV1Api);
    namespace = await plane.createNamespace('events');
  });
  after(() => stopOperators());

  const eventsAbout = async (name: string): Promise<CoreV1Event[]> =>
    (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items;
  const configMap = async (name: string) => core.createNamespacedConfigMap({ namespace, body: { metadata: { name } } });

  it('writes 10 Events for 40 retries with changing messages: 9, then one combined Event counting the rest of the budget', async () => {
    const failing = await configMap('failing');
    const recorder = new KubeEventRecorder({ transport: ApiTransport.create(plane.kubeConfig), component: 'events-test' });
    for (let i = 0; i < 40; i++) {
      recorder.event({ ...failing, apiVersion: 'v1', kind: 'ConfigMap' }, 'Warning', 'ReconcileError', `attempt ${i}: dial tcp 10.0.0.${i}:443: connect: connection refused`);
    }
    await recorder.flush();
    const events = await eventsAbout('failing');
    expect(events).to.have.length(10);
    const combined = events.filter((e) => e.message?.startsWith(COMBINED_PREFIX));
    expect(combined).to.have.length(1);
    // The object's budget is 25 writes: 9 Events, the combined one, and 15 patches of its
    // count; retries 25 to 39 are dropped by the spam filter (client-go's semantics).
    expect(combined[0]!.count).to.equal(16);
    expect(combined[0]!.message).to.equal(`${COMBINED_PREFIX}attempt 24: dial tcp 10.0.0.24:443: connect: connection refused`);
    expect(events.every((e) => e.involvedObject.uid === failing.metadata!.uid && e.type === 'Warning' && e.source?.component === 'events-test')).to.equal(true);
  });

  it('stops at 25 Events about one object in a storm of distinct reasons, and cuts messages to 1 KiB', async () => {
    const stormy = await configMap('stormy');
    const recorder = new KubeEventRecorder({ transport: ApiTransport.create(plane.kubeConfig), component: 'events-test' });
    for (let i = 0; i < 60; i++) recorder.event({ ...stormy, apiVersion: 'v1', kind: 'ConfigMap' }, 'Normal', `Step${i}`, `step ${i} ${'é'.repeat(2000)}`);
    await recorder.flush();
    const events = await eventsAbout('stormy');
    expect(events).to.have.length(25);
    for (const e of events) expect(Buffer.byteLength(e.message ?? '', 'utf8')).to.be.at.most(1024).and.above(1000);
  });

  it('re-creates an Event that was deleted instead of failing to count it', async () => {
    const cm = await configMap('recreated');
    const recorder = new KubeEventRecorder({ transport: ApiTransport.create(plane.kubeConfig), component: 'events-test' });
    const obj = { ...cm, apiVersion: 'v1', kind: 'ConfigMap' };
    recorder.event(obj, 'Normal', 'Synced', 'synced');
    await recorder.flush();
    const [first] = await eventsAbout('recreated');
    await core.deleteNamespacedEvent({ namespace, name: first!.metadata.name! });
    recorder.event(obj, 'Normal', 'Synced', 'synced');
    await recorder.flush();
    const events = await eventsAbout('recreated');
    expect(events.map((e) => [e.reason, e.count])).to.deep.equal([['Synced', 2]]);
  });

  it('an operator whose reconciler keeps failing with a changing message writes a bounded number of Events, not one per retry', async () => {
    let failures = 0;
    @Parent(V1ConfigMap) @Reconciles(1)
    class AlwaysFailing implements Reconciler<V1ConfigMap> {
      async reconcile(): Promise<Result> {
        failures++;
        throw new Error(`attempt ${failures} failed at ${new Date().toISOString()}`);
      }
    }
    await configMap('retried');
    await startOperator(plane.kubeConfig, {
      name: 'events-operator', reconcilers: [AlwaysFailing], namespaces: [namespace],
      // Fast, capped retries: many failures within the test.
      rateLimiter: () => new ExponentialFailureRateLimiter({ baseDelayMs: 5, maxDelayMs: 100 }),
    });
    await eventually(async () => failures >= 30, { message: '30 failed reconciles' });
    await stopOperators(); // flushes the Events
    const events = (await eventsAbout('retried')).filter((e) => e.source?.component === 'events-operator');
    const listing = events.map((e) => `${e.reason} x${e.count}: ${e.message}`).join('\n');
    const retries = events.filter((e) => e.reason === 'ReconcileError');
    // Without correlation every failure would be an Event: 30 or more. With it, 9 distinct
    // messages and then one combined Event (plus the Ready transition's Event), all within
    // the object's budget of 25.
    expect(failures).to.be.at.least(30);
    expect(retries.length, listing).to.be.at.most(11);
    expect(events.length, listing).to.be.at.most(25);
  });
});
