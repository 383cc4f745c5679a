// Fault 3 (issue #10): SIGKILL the operator while 500 parents converge, then start a new one.
//
// Passed before the fixes of #10 too; it guards the finalizer and ownership invariants across a
// crash (and, since the finalizer removal was reworked, the removal by index).
//
// One exception to "no orphan": a delete that raced the finalizer being added
// (kubernetes/kubernetes#77988, fault 10) removes the parent without marking it; the operator
// runs the cleanup when it sees that deletion, but the kill may come first, and the new
// process never sees the parent. Its child is left to the garbage collector (this plane runs
// none), so the test tells such parents by its own watch, and excuses their children only if
// they carry the controller reference the collector follows and the first process never
// deleted them (a child deleted and then applied again would be a bug of ours).
import { Watch } from '@kubernetes/client-node';
import { expect } from 'chai';
import { eventually } from '../../../lib/testing/index.js';
import { FINALIZER } from '../support/task-operator.js';
import { received } from '../../../lib/testing/audit.js';
import { createMany, faultParameter, faultsPlane, Objects, RawApi, readyOf, Replica, report, type Obj } from '../support/harness.js';

const parents = faultParameter('MAESTRO_FAULT_PARENTS', 500);
const lease = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
const name = (i: number) => `p-${String(i).padStart(4, '0')}`;
/** Every tenth parent is deleted just before the kill, so deletions (finalizers) are in progress too. */
const deleted = (i: number) => i % 10 === 5;

type ConfigMap = { metadata: { name: string; uid: string; ownerReferences?: Array<{ uid: string; name: string; controller?: boolean; kind: string }> } };

export const title = `fault 3: SIGKILL while parents converge: all ${parents} converge after a new process takes over, one child each, no orphan, no finalizer left`;

export async function sigkillConverging(): Promise<void> {
  const replicas: Replica[] = [];
  let api: RawApi | undefined;
  let stopWatch = () => {};
  try {
    const { plane, audit } = await faultsPlane();
    const ns = await plane.createNamespace('fault3');
    api = new RawApi(plane.kubeConfig);
    const tasks = new Objects(api, ns);
    const env = { FAULT_NAMESPACES: ns, FAULT_CONCURRENCY: '4', FAULT_LEASE: JSON.stringify(lease), FAULT_NAME: 'fault3-operator' };
    // One user per process, so that the audit log tells their requests apart.
    const first = new Replica('fault3-a', await plane.userKubeConfig('fault3-a', ['system:masters']), env);
    replicas.push(first);
    await first.start();
    await first.ready();

    const began = Date.now();
    const creating = createMany(tasks, parents, name, (i) => ({ message: `parent ${i}`, delayMs: 20 }));
    // Kill once a fifth has converged (and well before all have).
    const readyAtKill = await eventually(async () => {
      const n = await tasks.readyCount();
      return n >= parents / 5 ? n : undefined;
    }, { timeoutMs: 180_000, intervalMs: 250, message: `${parents / 5} parents Ready` });
    await creating;
    // Deletions that raced the finalizer being added: the parent's last state has the finalizer and no deletionTimestamp.
    const raced = new Map<string, string>();
    const watching = await new Watch(plane.kubeConfig).watch(tasks.path, {}, (type: string, obj: Obj) => {
      if (type === 'DELETED' && !obj.metadata?.deletionTimestamp && (obj.metadata?.finalizers ?? []).includes(FINALIZER)) raced.set(obj.metadata!.uid!, obj.metadata!.name!);
    }, () => {});
    stopWatch = () => watching.abort();
    const deletingAt = Date.now();
    const doomed = Array.from({ length: parents }, (_, i) => i).filter(deleted).map(name);
    await Promise.all(doomed.map((n) => tasks.delete(n)));
    first.kill('SIGKILL');
    const killedAt = Date.now();
    const exit = await first.current.exited;
    const before = await tasks.list();
    const childrenAtKill = (await api.ok<{ items: ConfigMap[] }>('GET', `/api/v1/namespaces/${ns}/configmaps`)).items.filter((c) => c.metadata.ownerReferences?.length).length;

    const second = new Replica('fault3-b', await plane.userKubeConfig('fault3-b', ['system:masters']), env);
    replicas.push(second);
    await second.start();
    const survivors = parents - doomed.length;
    let convergedMs: number | undefined;
    try {
      await eventually(async () => {
        const list = await tasks.list();
        const ready = list.filter((o) => { const r = readyOf(o); return r?.status === 'True' && r.current; }).length;
        return list.length === survivors && ready === survivors ? true : undefined;
      }, { timeoutMs: 240_000, intervalMs: 500, message: `${survivors} parents Ready and ${doomed.length} gone` });
      convergedMs = Date.now() - killedAt;
    } catch { /* reported and asserted below */ }

    const live = await tasks.list();
    const liveByUid = new Map(live.map((o) => [o.metadata!.uid!, o]));
    const children = (await api.ok<{ items: ConfigMap[] }>('GET', `/api/v1/namespaces/${ns}/configmaps`)).items.filter((c) => c.metadata.name.startsWith('p-'));
    const childrenPerParent = new Map<string, number>();
    const orphans: string[] = [];
    const leftToCollector: string[] = [];
    // Children the first process deleted (its cleanup of a raced parent done) cannot be left to the collector.
    const deletedByFirst = new Set((await audit.requests({ user: 'fault3-a', verb: 'delete', resource: 'configmaps', namespace: ns, since: began }))
      .filter((e) => e.responseStatus?.code === 200).map((e) => e.objectRef?.name));
    for (const child of children) {
      const owner = child.metadata.ownerReferences?.find((r) => r.controller);
      if (owner && raced.has(owner.uid) && owner.name === child.metadata.name && !deletedByFirst.has(child.metadata.name)) leftToCollector.push(child.metadata.name);
      else if (!owner || !liveByUid.has(owner.uid)) orphans.push(child.metadata.name);
      else childrenPerParent.set(owner.uid, (childrenPerParent.get(owner.uid) ?? 0) + 1);
    }
    const withoutOneChild = live.filter((o) => childrenPerParent.get(o.metadata!.uid!) !== 1).map((o) => o.metadata!.name);
    const stuck = live.filter((o) => o.metadata?.deletionTimestamp).map((o) => `${o.metadata!.name} ${JSON.stringify(o.metadata!.finalizers)}`);
    const badFinalizers = live.filter((o) => !o.metadata?.deletionTimestamp && (o.metadata?.finalizers ?? []).filter((f) => f === FINALIZER).length !== 1).map((o) => o.metadata!.name);
    report('fault3', {
      parents,
      readyAtKill,
      createdAndKilledAfterMs: killedAt - began,
      terminatingAtKill: before.filter((o) => o.metadata?.deletionTimestamp).length,
      childrenAtKill,
      killedBy: exit.signal,
      convergedAfterKillMs: convergedMs ?? 'never',
      reconcilesByNewProcess: second.lines('start').length,
      cleanupsByNewProcess: second.lines('cleanup').length,
      live: live.length,
      children: children.length,
      orphans: orphans.length,
      racedDeletes: raced.size,
      leftToCollector: leftToCollector.length,
      parentsWithoutExactlyOneChild: withoutOneChild.length,
      stuckTerminating: stuck.length,
      badFinalizers: badFinalizers.length,
    });

    if (orphans.length > 0) {
      // What touched an orphan and its parent, and when (ms after the deletes began), for the failure's reader.
      const t = (ms: number) => Math.round(ms - deletingAt);
      const story: Record<string, unknown> = { killedAt: t(killedAt) };
      for (const orphan of orphans.slice(0, 3)) {
        const child = children.find((c) => c.metadata.name === orphan)!;
        const requests = (await audit.requests({ namespace: ns, name: orphan, since: began }))
          .filter((e) => e.objectRef?.resource === 'configmaps' || e.objectRef?.resource === 'tasks')
          .map((e) => `${e.user.username} ${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ${e.responseStatus?.code} at ${t(received(e))}..${t(Date.parse(e.stageTimestamp))}`);
        const lines = [...first.lines(), ...second.lines()].filter((l) => l.key === `${ns}/${orphan}`)
          .map((l) => `${l.proc} ${l.fx}${typeof l['outcome'] === 'string' ? ` ${l['outcome']}` : ''} at ${t(l.at)}`);
        story[orphan] = { owner: child.metadata.ownerReferences, requests, lines };
      }
      process.stderr.write(`      FAULT-ORPHANS fault3: ${JSON.stringify(story, null, 2)}\n`);
    }

    expect(exit.signal).to.equal('SIGKILL');
    expect(convergedMs, 'every surviving parent Ready, every deleted one gone').to.not.equal(undefined);
    expect(stuck, 'deleted parents left with a finalizer').to.deep.equal([]);
    expect(orphans, 'children without a live controller owner').to.deep.equal([]);
    expect(withoutOneChild, 'parents without exactly one child').to.deep.equal([]);
    expect(badFinalizers, 'live parents without exactly one finalizer of ours').to.deep.equal([]);
  } finally {
    stopWatch();
    await Promise.all(replicas.splice(0).map((r) => r.stop()));
    api?.close();
  }
}
