// maestro-operator/testing's fake client and reconcileOnce: what they promise (and the
// limits they document), without a cluster.
import 'reflect-metadata';
import { expect } from 'chai';
import { V1ConfigMap, V1Namespace, type V1ObjectMeta } from '@kubernetes/client-node';
import { ApiError, ReconcilerError, TerminalError, isAlreadyExists, isConflict, isNotFound } from '../../lib/index.js';
import { AlreadyOwnedError, buildSpecs } from '../../lib/runtime/index.js';
import { FakeClient, reconcileOnce } from '../../lib/testing/index.js';
import { Greeting, GreetingReconciler } from '../../samples/greeting/greeting.js';
import { tick } from '../queue/wait.js';
import { readFile } from 'node:fs/promises';

const cm = (name: string, data: Record<string, string> = {}, metadata: Omit<V1ObjectMeta, 'name'> = {}): V1ConfigMap =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', ...metadata }, data });

describe('FakeClient', () => {
  it('creates objects as the API server does: uid, resourceVersion, generation, creationTimestamp; a second create is AlreadyExists', async () => {
    const client = new FakeClient();
    const created = await client.create(cm('a', { k: 'v' }));
    expect(created.metadata).to.include({ name: 'a', namespace: 'ns', generation: 1, resourceVersion: '1' });
    expect(created.metadata?.uid).to.match(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).to.be.instanceOf(Date);
    expect(isAlreadyExists(await client.create(cm('a')).catch((e: unknown) => e))).to.equal(true);
  });

  it('reads copies, reports a missing object as 404 NotFound, and lists by namespace and label selector', async () => {
    const client = new FakeClient({ objects: [cm('a', {}, { labels: { app: 'web', tier: 'fe' } }), cm('b', {}, { labels: { app: 'db' } }), { ...cm('c'), metadata: { name: 'c', namespace: 'other', labels: { app: 'web' } } }] });
    const a = await client.get(V1ConfigMap, { namespace: 'ns', name: 'a' });
    a.data = { changed: 'by the caller' };
    expect((await client.get(V1ConfigMap, { namespace: 'ns', name: 'a' })).data).to.deep.equal({});
    const missing = await client.get(V1ConfigMap, { namespace: 'ns', name: 'nope' }).catch((e: unknown) => e);
    expect(isNotFound(missing)).to.equal(true);
    const names = async (options: Parameters<FakeClient['list']>[1]) => (await client.list(V1ConfigMap, options)).map((o) => o.metadata?.name).sort();
    expect(await names({})).to.deep.equal(['a', 'b', 'c']);
    expect(await names({ namespace: 'ns' })).to.deep.equal(['a', 'b']);
    expect(await names({ labelSelector: 'app=web' })).to.deep.equal(['a', 'c']);
    expect(await names({ labelSelector: { app: 'web', tier: 'fe' } })).to.deep.equal(['a']);
    expect(await names({ labelSelector: 'app in (db,cache),!tier' })).to.deep.equal(['b']);
    expect(await names({ labelSelector: 'constructor' }), 'no match on Object.prototype keys').to.deep.equal([]);
  });

  it('refuses a write on a stale resourceVersion with 409 Conflict, and bumps the generation only when the spec changes', async () => {
    const client = new FakeClient();
    const a = await client.create(cm('a', { k: '1' }));
    const updated = await client.update({ ...a, data: { k: '2' } });
    expect(updated.metadata?.generation).to.equal(2);
    expect(isConflict(await client.update({ ...a, data: { k: '3' } }).catch((e: unknown) => e)), 'stale update').to.equal(true);
    expect(isConflict(await client.patch(a, { metadata: { resourceVersion: a.metadata!.resourceVersion }, data: { k: '4' } }).catch((e: unknown) => e)), 'stale merge patch').to.equal(true);
    const labelled = await client.patch(updated, { metadata: { labels: { x: 'y' } } });
    expect(labelled.metadata?.generation, 'metadata changes keep the generation').to.equal(2);
    const status = await client.status().patch(labelled, { status: { phase: 'ok' } });
    expect(status.metadata?.generation, 'status writes keep the generation').to.equal(2);
    expect((status as V1ConfigMap).data, 'status writes keep the spec').to.deep.equal({ k: '2' });
  });

  it('applies JSON patches (test, add, replace, remove): a failed test is 422', async () => {
    const client = new FakeClient();
    const a = await client.create(cm('a', { k: '1' }, { finalizers: ['x.io/a', 'x.io/b'] }));
    const patched = await client.patch(a, [
      { op: 'test', path: '/metadata/finalizers', value: ['x.io/a', 'x.io/b'] },
      { op: 'replace', path: '/metadata/finalizers', value: ['x.io/b'] },
      { op: 'add', path: '/data/n', value: '2' },
      { op: 'remove', path: '/data/k' },
    ], { type: 'json' });
    expect(patched.metadata?.finalizers).to.deep.equal(['x.io/b']);
    expect(patched.data).to.deep.equal({ n: '2' });
    const failed = await client.patch(a, [{ op: 'test', path: '/metadata/finalizers', value: [] }], { type: 'json' }).catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(ApiError).and.have.property('statusCode', 422);
  });

  it('honours finalizers on delete: the object stays, marked, until its last finalizer is removed', async () => {
    const client = new FakeClient();
    const a = await client.create(cm('a', {}, { finalizers: ['x.io/keep'] }));
    await client.delete(a);
    const marked = await client.get(V1ConfigMap, { namespace: 'ns', name: 'a' });
    expect(marked.metadata?.deletionTimestamp).to.be.instanceOf(Date);
    await client.patch(marked, { metadata: { finalizers: null } });
    expect(client.objects(V1ConfigMap)).to.deep.equal([]);
    await client.delete(await client.create(cm('b')));
    expect(client.objects(V1ConfigMap)).to.deep.equal([]);
  });

  it('makes the parent the controller owner of what a per-parent client applies, refusing a child another object controls', async () => {
    const client = new FakeClient();
    const parent = await client.create(cm('parent'));
    const child = await client.forParent(parent).apply(cm('child', { a: '1' }));
    expect(child.metadata?.ownerReferences).to.deep.equal([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'parent', uid: parent.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    const again = await client.forParent(parent).apply(cm('child', { a: '2' }));
    expect(again.data).to.deep.equal({ a: '2' });
    expect(again.metadata?.generation).to.equal(2);
    const rival = await client.create(cm('rival'));
    const taken = await client.forParent(rival).apply(cm('child', { a: '3' })).catch((e: unknown) => e);
    expect(taken).to.be.instanceOf(AlreadyOwnedError);
    expect((await client.get(V1ConfigMap, { namespace: 'ns', name: 'child' })).data, 'no write').to.deep.equal({ a: '2' });
    const ns = await client.forParent(parent).apply<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cluster-scoped' } });
    expect(ns.metadata?.ownerReferences, 'no namespaced owner for a cluster-scoped object').to.equal(undefined);
  });

  it('records every request, lets an interceptor fail one, and announces writes to its source after the request returned', async () => {
    let fail = true;
    const client = new FakeClient({
      intercept: (action) => {
        if (action.verb === 'create' && fail) {
          fail = false;
          throw new ApiError(500, 'etcd is unhappy', { reason: 'InternalError', code: 500 });
        }
      },
    });
    const seen: string[] = [];
    client.source.addHandler(buildSpecs({ components: [GreetingReconciler] }).resources.of(V1ConfigMap), { onAdd: (o) => seen.push(`add ${o.metadata?.name}`) });
    expect(await client.create(cm('a')).catch((e: unknown) => (e as ApiError).statusCode)).to.equal(500);
    await client.create(cm('a'));
    expect(seen, 'not during the request').to.deep.equal([]);
    await tick();
    expect(seen).to.deep.equal(['add a']);
    expect(client.calls).to.deep.equal(['create ConfigMap/ns/a', 'create ConfigMap/ns/a']);
  });
});

describe('reconcileOnce', () => {
  // The wire form, as a user writes it: the class declares apiVersion and kind, so a literal is a Greeting.
  const greeting = (name: string, spec: Greeting['spec']): Greeting => ({ apiVersion: 'example.com/v1', kind: 'Greeting', metadata: { name, namespace: 'ns' }, spec });

  it('takes the README’s call as written: a literal Greeting, no cast', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(readme).to.contain(`const { conditions, client } = await reconcileOnce(Greeting, { apiVersion: 'example.com/v1', kind: 'Greeting',
  metadata: { name: 'hello', namespace: 'default' }, spec: { message: 'hi ', copies: 2 } });`);
    // The same lines, compiled with this test (strict): they type-check and run.
    const { conditions, client } = await reconcileOnce(Greeting, { apiVersion: 'example.com/v1', kind: 'Greeting',
      metadata: { name: 'hello', namespace: 'default' }, spec: { message: 'hi ', copies: 2 } }, { components: [GreetingReconciler] });
    expect(conditions.map((c) => [c.type, c.status, c.reason])).to.deep.equal([['Ready', 'True', 'Greeted']]);
    expect(client.objects(V1ConfigMap).map((c) => c.data)).to.deep.equal([{ text: 'hi hi ' }]);
  });

  it('runs one reconcile of the README\u2019s Greeting as the operator would: the child, its owner, Ready and observedGeneration', async () => {
    const { result, error, conditions, client, parent } = await reconcileOnce(Greeting, greeting('hello', { message: 'hi ', copies: 2 }), { components: [GreetingReconciler] });
    expect(error).to.equal(undefined);
    expect(result).to.deep.equal({});
    expect(conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).to.deep.equal([['Ready', 'True', 'Greeted', 1]]);
    const [configMap] = client.objects(V1ConfigMap);
    expect(configMap?.data).to.deep.equal({ text: 'hi hi ' });
    expect(configMap?.metadata?.ownerReferences?.[0]).to.include({ kind: 'Greeting', name: 'hello', uid: parent!.metadata!.uid, controller: true });
  });

  it('reports invalid input as the operator would: InvalidSpec, no child, a Warning Event, and the error', async () => {
    const { error, conditions, client, events } = await reconcileOnce(Greeting, greeting('loud', { message: 'hi', copies: 9 }), { components: [GreetingReconciler] });
    expect(error).to.be.instanceOf(ReconcilerError);
    expect((error as ReconcilerError).cause).to.be.instanceOf(TerminalError);
    expect(conditions.find((c) => c.type === 'Ready')).to.include({ status: 'False', reason: 'InvalidSpec' });
    expect(client.objects(V1ConfigMap)).to.deep.equal([]);
    expect(events.map((e) => [e.type, e.reason])).to.deep.equal([['Warning', 'InvalidSpec'], ['Warning', 'InvalidSpec']]);
  });

  it('reconciles against a store of the test\u2019s own, with a parent spec from buildSpecs', async () => {
    const client = new FakeClient();
    const stored = await client.create(greeting('mine', { message: 'a', copies: 1 }));
    const spec = buildSpecs({ components: [GreetingReconciler] }).parents[0]!;
    await reconcileOnce(spec, stored, { client });
    expect(client.calls).to.deep.equal(['create Greeting/ns/mine', 'get Greeting/ns/mine', 'apply ConfigMap/ns/mine', 'status-patch Greeting/ns/mine', 'get Greeting/ns/mine']);
  });
});
