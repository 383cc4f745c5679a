// Fault 10: parents deleted while the operator adds its finalizer.
//
// Found when fault 3 left one orphan child in CI. kube-apiserver (1.36 too) has a race,
// kubernetes/kubernetes#77988: a DELETE that read the object before a finalizer was added
// removes it anyway, and the PATCH that added the finalizer succeeds too. The operator then
// goes on to apply the child, and no cleanup ever runs: the parent was never marked for
// deletion. Its last state, as a watch delivers the deletion, carries the finalizer and no
// deletionTimestamp. The controller now recognises that state (Finalizers.missedCleanup) and
// runs the cleanup for the parent that is gone. The test tells the races by its own watch, the
// same way. (The DELETE's response cannot tell: it is the object as the DELETE read it.)
// Without the fix, a run left exactly the raced parents' children behind.
import { Watch } from '@kubernetes/client-node';
import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { eventually } from '../../../lib/testing/index.js';
import { FINALIZER } from '../support/task-operator.js';
import { faultsPlane, Objects, RawApi, Replica, report, type Obj } from '../support/harness.js';

/** Attempts at most, and races wanted: a race needs the DELETE to land while the operator's finalizer patch is in flight. */
const maxAttempts = 400;
const racesWanted = 3;

export const title = 'fault 10: deletes that race the finalizer being added: the API server drops the finalizer, the operator still runs the cleanup; no orphan';

export async function deleteRacesFinalizer(): Promise<void> {
  let replica: Replica | undefined;
  let api: RawApi | undefined;
  let stopWatch = () => {};
  try {
    const { plane } = await faultsPlane();
    const ns = await plane.createNamespace('fault10');
    api = new RawApi(plane.kubeConfig);
    const tasks = new Objects(api, ns);
    replica = new Replica('fault10', await plane.userKubeConfig('fault10-operator', ['system:masters']), { FAULT_NAMESPACES: ns, FAULT_CONCURRENCY: '4' });
    await replica.start();
    await replica.ready();
    const raced: string[] = [];
    const watching = await new Watch(plane.kubeConfig).watch(tasks.path, {}, (type: string, obj: Obj) => {
      if (type === 'DELETED' && !obj.metadata?.deletionTimestamp && (obj.metadata?.finalizers ?? []).includes(FINALIZER)) raced.push(obj.metadata!.name!);
    }, () => {});
    stopWatch = () => watching.abort();

    // Create a parent, then delete it a few milliseconds later: sometimes before the operator
    // adds its finalizer, sometimes after, and sometimes while it does (the race).
    let attempts = 0;
    for (; attempts < maxAttempts && raced.length < racesWanted; attempts++) {
      const name = `r-${String(attempts).padStart(3, '0')}`;
      await tasks.create(name, { message: name });
      await delay(attempts % 8);
      await tasks.delete(name);
    }
    const names = Array.from({ length: attempts }, (_, i) => `r-${String(i).padStart(3, '0')}`);

    // Every parent goes, and with it every child: the cleanup deletes it, also for a parent
    // the API server removed with the finalizer on it.
    let orphans: string[] = [];
    const settled = await eventually(async () => {
      const left = await tasks.list();
      const children = (await api!.ok<{ items: Obj[] }>('GET', `/api/v1/namespaces/${ns}/configmaps`)).items;
      orphans = children.map((c) => c.metadata!.name!).filter((n) => names.includes(n));
      return left.length === 0 && orphans.length === 0 ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250, message: 'every parent and child gone' }).catch(() => false);
    const cleanups = new Set(replica.lines('cleanup').map((l) => l.key));
    const racedCleaned = raced.filter((n) => cleanups.has(`${ns}/${n}`));
    report('fault10', { attempts, raced: raced.length, racedCleaned: racedCleaned.length, cleanups: cleanups.size, orphans: orphans.length, exits: replica.unplannedExits });

    expect(raced.length, `deletes that removed a parent with the operator's finalizer and no deletionTimestamp, in ${attempts} attempts ` +
      '(the race of kubernetes/kubernetes#77988; a kube-apiserver that fixed it leaves this scenario nothing to prove)').to.be.greaterThan(0);
    expect(orphans, 'children left after every parent was deleted').to.deep.equal([]);
    expect(racedCleaned, 'raced parents whose cleanup ran').to.deep.equal(raced);
    expect(settled, 'every parent and child gone').to.equal(true);
    expect(replica.unplannedExits).to.equal(0);
  } finally {
    stopWatch();
    await replica?.stop();
    api?.close();
  }
}
