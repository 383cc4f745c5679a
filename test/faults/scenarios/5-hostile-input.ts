// Fault 5 (issue #10): objects that are too deep, too large, or of the wrong types.
//
// Root causes (fixed): the controller copied every cached parent with structuredClone, which
// throws RangeError (stack overflow) on a 6,000-deep spec; outside any try it killed the process
// (and every restart), later inside a try it left the object retried forever without a
// condition. Now the pipeline first checks the object limits without recursion (default 100
// levels, 3 MiB: lib/limits), refuses what is above them with Ready=False (ObjectTooDeep /
// ObjectTooLarge) and a Warning Event, and copies what is within them iteratively (deepCopy).
// Stored conditions are read leniently (`[null, 42, { type: 7 }]` is skipped), validation that
// throws is InvalidSpec, condition messages are truncated to the API's limit, and the process
// guard counts what nobody handled.
import { expect } from 'chai';
import { eventually, runKubectl } from '../../../lib/testing/index.js';
import { faultParameter, faultsPlane, Objects, RawApi, readyOf, Replica, report, type ReadyState } from '../support/harness.js';

/** Levels of nesting: the API server accepts up to 10,000. */
const depth = faultParameter('MAESTRO_FAULT_DEPTH', 6_000);
/** Bytes of a large object's payload (etcd takes up to 1.5 MiB per object). */
const bigBytes = Math.round(1.4 * 1024 * 1024);

/** A JSON text nested `levels` deep, built as text (no recursion to build or print it). */
const deepJson = (levels: number) => `${'{"a":'.repeat(levels)}"leaf"${'}'.repeat(levels)}`;

export const title = 'fault 5: hostile input: lives through deep, huge and wrongly typed objects; the others converge, the bad ones get Ready=False';

export async function hostileInput(): Promise<void> {
  let replica: Replica | undefined;
  let api: RawApi | undefined;
  try {
    const { plane } = await faultsPlane();
    const ns = await plane.createNamespace('fault5');
    api = new RawApi(plane.kubeConfig);
    const tasks = new Objects(api, ns);
    const task = (name: string, specJson: string) =>
      `{"apiVersion":"faults.maestro.dev/v1","kind":"Task","metadata":{"name":"${name}","namespace":"${ns}"},"spec":${specJson}}`;

    // The hostile objects exist before the operator starts: its first list meets them (and so would every restart).
    await runKubectl(['create', '-f', '-'], { kubeconfig: plane.kubeconfigPath, input: task('deep-invalid', `{"message":${deepJson(depth)}}`) });
    await runKubectl(['create', '-f', '-'], { kubeconfig: plane.kubeconfigPath, input: task('deep-valid', `{"message":"deep","extra":${deepJson(depth)}}`) });
    await tasks.create('big', { message: 'big', payload: 'x'.repeat(bigBytes) });
    await tasks.create('wrong-types', { message: 12, delayMs: 'slow', requeueAfterMs: { n: 1 }, child: ['x'], heartbeat: 'yes', payload: 7, extra: 'text' });
    // Garbage where the operator keeps its own state, too.
    await api.ok('PATCH', `${tasks.path}/wrong-types/status`, { status: { conditions: [null, 42, { type: 7 }], observedGeneration: 'x' } }, 'application/merge-patch+json');
    for (let i = 0; i < 3; i++) await tasks.create(`good-${i}`, { message: `good ${i}` });

    replica = new Replica('fault5', await plane.userKubeConfig('fault5-operator', ['system:masters']), { FAULT_NAMESPACES: ns, FAULT_CONCURRENCY: '2' }, { restart: true });
    await replica.start();
    const started = await replica.ready().catch(() => undefined);
    await tasks.create('good-late', { message: 'created later' });

    const goods = ['good-0', 'good-1', 'good-2', 'good-late'];
    const expected: Record<string, (r: ReadyState | undefined) => boolean> = {
      ...Object.fromEntries(goods.map((n) => [n, (r: ReadyState | undefined) => r?.status === 'True' && r.current])),
      big: (r) => r?.status === 'True' && r.current,
      'wrong-types': (r) => r?.status === 'False' && r.reason === 'InvalidSpec' && r.current,
      // Invalid and too deep: refused for either reason (InvalidSpec, or one about its depth).
      'deep-invalid': (r) => r?.status === 'False' && Boolean(r.reason) && r.current,
      // Valid as declared; the runtime may reconcile it or refuse its depth, but must report on it.
      'deep-valid': (r) => r?.current === true && (r.status === 'True' || r.status === 'False'),
    };
    const seen: Record<string, string> = {};
    const describe = (r: ReadyState | undefined) => (r ? `${r.status}/${r.reason}${r.current ? '' : '(stale)'}` : 'none');
    await eventually(async () => {
      let all = true;
      for (const [name, ok] of Object.entries(expected)) {
        const r = readyOf(await tasks.get(name));
        seen[name] = describe(r);
        if (!ok(r)) all = false;
      }
      return all;
    }, { timeoutMs: 120_000, intervalMs: 500, message: 'every object reported on' }).catch(() => undefined);

    let healthz: number | string = 'no server';
    const url = (replica.current.logs({ fx: 'ready' }).at(-1) ?? started)?.['probesUrl'];
    if (typeof url === 'string') healthz = await fetch(`${url}/healthz`).then((r) => r.status, (err: unknown) => String(err));
    const crashes = replica.processes.filter((p) => p.exit).map((p) => p.lines.filter((l) => l.stream === 'stderr').map((l) => l.text).find((t) => /Error/.test(t)) ?? `exit ${p.exit!.code ?? p.exit!.signal}`);
    report('fault5', {
      depth,
      bigBytes,
      ready: seen,
      processes: replica.processes.length,
      unplannedExits: replica.unplannedExitCodes.join(',') || 0,
      firstCrash: crashes[0]?.slice(0, 160) ?? 'none',
      healthz,
    });

    expect(replica.unplannedExitCodes, 'the operator process never exits').to.deep.equal([]);
    expect(replica.current.running, 'the operator process still runs').to.equal(true);
    expect(healthz).to.equal(200);
    for (const [name, ok] of Object.entries(expected)) {
      expect(ok(readyOf(await tasks.get(name))), `${name}: Ready is ${seen[name]}`).to.equal(true);
    }
  } finally {
    await replica?.stop();
    api?.close();
  }
}
