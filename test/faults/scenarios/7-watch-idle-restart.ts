// Fault 7 (issue #10): quiet watches, and an API server restart under 20 informers.
//
// Root cause of the idle part (fixed in the one transport, lib/client/transport.ts): client-node's
// Watch aborted a watch after 30 s without data and the informer reconnected at once; with
// bookmarks about every 60 s every quiet informer reconnected every 30 s. Now a watch may be silent
// for 90 s (above the bookmark interval) and ends on the server's timeoutSeconds (5 to 10 min).
// The restart part passed before: re-lists after 410 Gone back off with jitter (800 ms to 30 s).
import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { eventually, type AuditEvent } from '../../../lib/testing/index.js';
import { faultParameter, faultsPlane, median, Objects, RawApi, Replica, report } from '../support/harness.js';

/**
 * Longer than the API server's bookmark interval (about a minute) and than the client's idle
 * timeout (90 s): a watch stays open only if the bookmarks reach it (without them each informer
 * would reconnect once, at 90 s; with client-node's old 30 s timeout, three times).
 */
const idleMs = faultParameter('MAESTRO_FAULT_IDLE_MS', 100_000);
const informers = 20;
const received = (e: AuditEvent) => Date.parse(e.requestReceivedTimestamp);

export const idleTitle = 'fault 7: keeps quiet watches open past the bookmark interval: at most one reconnect per informer';

export async function quietWatches(): Promise<void> {
  let replica: Replica | undefined;
  let api: RawApi | undefined;
  try {
    const { plane, audit } = await faultsPlane();
    const ns = await plane.createNamespace('fault7-idle');
    api = new RawApi(plane.kubeConfig);
    const tasks = new Objects(api, ns);
    const user = 'fault7-idle-operator';
    await tasks.create('quiet', { message: 'nothing happens' });
    replica = new Replica('fault7-idle', await plane.userKubeConfig(user, ['system:masters']), { FAULT_NAMESPACES: ns });
    await replica.start();
    await tasks.waitReady('quiet', 60_000);
    // Both informers (Tasks, ConfigMaps) are watching.
    const resources = ['tasks', 'configmaps'];
    await eventually(async () => {
      const watching = new Set((await audit.requests({ user, verb: 'watch', namespace: ns })).map((w) => w.objectRef?.resource));
      return resources.every((r) => watching.has(r));
    }, { timeoutMs: 30_000, message: 'both informers watching' });

    const from = Date.now();
    await delay(idleMs); // the quiet period is the fault itself
    const requests = await audit.requests({ user, namespace: ns, since: from, until: from + idleMs });
    const watchesPer: Record<string, number> = {};
    const listsPer: Record<string, number> = {};
    for (const r of requests) {
      const resource = r.objectRef?.resource ?? '?';
      if (r.verb === 'watch') watchesPer[resource] = (watchesPer[resource] ?? 0) + 1;
      if (r.verb === 'list') listsPer[resource] = (listsPer[resource] ?? 0) + 1;
    }
    report('fault7-idle', { idleMs, reconnectsPerInformer: watchesPer, relistsPerInformer: listsPer, requestsInWindow: requests.length });

    for (const resource of resources) {
      expect(watchesPer[resource] ?? 0, `${resource}: new watches in ${idleMs} ms of silence`).to.be.at.most(1);
      expect(listsPer[resource] ?? 0, `${resource}: re-lists in ${idleMs} ms of silence`).to.equal(0);
    }
  } finally {
    await replica?.stop();
    api?.close();
  }
}

export const restartTitle = `fault 7: spreads the re-lists of ${informers} informers after an API server restart`;

export async function restartUnderInformers(): Promise<void> {
  let replica: Replica | undefined;
  let api: RawApi | undefined;
  const { plane } = await faultsPlane();
  try {
    const { audit } = await faultsPlane();
    api = new RawApi(plane.kubeConfig);
    const namespaces: string[] = [];
    for (let i = 0; i < informers; i++) namespaces.push(await plane.createNamespace(`fault7-ns${i}`));
    const beacons = namespaces.map((ns) => new Objects(api!, ns, 'beacons'));
    const user = 'fault7-restart-operator';
    replica = new Replica('fault7-restart', await plane.userKubeConfig(user, ['system:masters']), {
      FAULT_KIND: 'beacon', FAULT_NAMESPACES: namespaces.join(','),
    });
    await replica.start();
    await replica.ready();
    await Promise.all(beacons.map((b) => b.create('before', {})));
    await Promise.all(beacons.map((b) => b.waitReady('before', 60_000)));

    const restartAt = Date.now();
    await plane.restartAPIServer();
    const upAt = Date.now();
    // Recovered: every informer delivers again.
    await Promise.all(beacons.map((b) => b.create('after', {})));
    let recovered = true;
    await Promise.all(beacons.map((b) => b.waitReady('after', 120_000))).catch(() => { recovered = false; });
    const recoveredMs = Date.now() - upAt;

    const requests = (await audit.requests({ user, since: restartAt })).filter((r) => namespaces.includes(r.objectRef?.namespace ?? ''));
    const lists = requests.filter((r) => r.verb === 'list');
    const watches = requests.filter((r) => r.verb === 'watch');
    const perInformer = (events: AuditEvent[]) => namespaces.map((ns) => events.filter((e) => e.objectRef?.namespace === ns).length);
    const listsPer = perInformer(lists);
    const requestsPer = perInformer(requests);
    const firstRelist = namespaces.map((ns) => lists.find((l) => l.objectRef?.namespace === ns)).filter((l): l is AuditEvent => l !== undefined).map((l) => received(l) - upAt);
    const spreadMs = firstRelist.length ? Math.max(...firstRelist) - Math.min(...firstRelist) : 0;
    report('fault7-restart', {
      informers,
      relists: lists.length,
      informersRelisted: firstRelist.length,
      maxRelistsPerInformer: Math.max(...listsPer),
      watches: watches.length,
      maxRequestsPerInformer: Math.max(...requestsPer),
      firstRelistAfterUpMs: firstRelist.length ? { min: Math.min(...firstRelist), median: median(firstRelist), max: Math.max(...firstRelist) } : 'none',
      relistSpreadMs: spreadMs,
      recoveredAfterUpMs: recovered ? recoveredMs : 'never',
    });

    expect(recovered, 'every informer delivers after the restart').to.equal(true);
    expect(Math.max(...listsPer), 're-lists per informer (no re-list loop)').to.be.at.most(3);
    expect(Math.max(...requestsPer), 'lists and watches per informer since the restart').to.be.at.most(10);
    // With backoff and jitter the re-lists do not all land in the same instant.
    if (firstRelist.length >= 2) expect(spreadMs, 're-list times spread').to.be.at.least(100);
  } finally {
    await replica?.stop();
    api?.close();
    await plane.startAPIServer(); // in case the scenario failed while it was stopped
  }
}
