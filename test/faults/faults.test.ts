// The fault-injection suite of issue #10, on one real control plane (test/faults/scenarios/).
//
// Order, so that the suite's time stays low without one scenario disturbing another:
// 1. Scenarios 4 (a 90 s black hole, behind a proxy of its own) and 7-idle (100 s of silence)
//    spend most of their time waiting; they start in the background at once.
// 2. Meanwhile the scenarios that neither stop the API server nor depend on quiet run one after
//    another: 2, 3, 5, 6, 8, 10 (each in its own namespace, with its own operator processes and user).
// 3. Then the results of 4 and 7-idle are awaited and asserted.
// 4. Last, one after another, the scenarios that stop or restart the API server: 1, 7-restart, 9
//    (an outage would break 4's measurements and 7-idle's silence).
// Run one scenario with `--grep 'fault 5'` (a background scenario then waits for nothing else).
// Parameters (environment): MAESTRO_FAULT_BLACKHOLE_MS, MAESTRO_FAULT_IDLE_MS,
// MAESTRO_FAULT_OUTAGE_MS, MAESTRO_FAULT_PARENTS, MAESTRO_FAULT_DEPTH; MAESTRO_FAULT_REPORT=<file>
// collects every scenario's counts as JSON lines.
import { leadershipBusy, title as title1 } from './scenarios/1-leadership-busy.js';
import { twoReplicas, title as title2 } from './scenarios/2-two-replicas.js';
import { sigkillConverging, title as title3 } from './scenarios/3-sigkill-converging.js';
import { blackhole, title as title4 } from './scenarios/4-blackhole.js';
import { hostileInput, title as title5 } from './scenarios/5-hostile-input.js';
import { ownershipConflict, title as title6 } from './scenarios/6-ownership-conflict.js';
import { idleTitle, quietWatches, restartTitle, restartUnderInformers } from './scenarios/7-watch-idle-restart.js';
import { throwingCollector, title as title8 } from './scenarios/8-throwing-collector.js';
import { unreachableWithoutServer, title as title9 } from './scenarios/9-unreachable-without-server.js';
import { deleteRacesFinalizer, title as title10 } from './scenarios/10-delete-races-finalizer.js';
import { faultParameter, faultsPlane } from './support/harness.js';

/** A scenario started in the background: its outcome, settled (so a failure is reported by its own test, never unhandled). */
type Outcome = { ok: true } | { ok: false; error: unknown };
const settle = (run: () => Promise<void>): Promise<Outcome> => run().then(() => ({ ok: true as const }), (error: unknown) => ({ ok: false as const, error }));

/** Whether mocha's --grep / --fgrep (if given) selects a test of this title. */
function selected(fullTitle: string): boolean {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1] ?? '';
    if (arg === '--invert' || arg === '-i') return true;
    if (arg === '--grep' || arg === '-g' || arg.startsWith('--grep=')) return new RegExp(value).test(fullTitle);
    if (arg === '--fgrep' || arg === '-f' || arg.startsWith('--fgrep=')) return fullTitle.includes(value);
  }
  return true;
}

const SUITE = 'faults (issue #10): the runtime against a real control plane';

describe(SUITE, () => {
  const background = new Map<string, Promise<Outcome>>();
  const scenarios = new Map([[title4, blackhole], [idleTitle, quietWatches]]);
  // A background scenario whose test --grep leaves out is not started.
  const inBackground = (title: string) => { if (selected(`${SUITE} ${title}`)) background.set(title, settle(scenarios.get(title)!)); };
  const awaited = (title: string) => async () => {
    const outcome = await (background.get(title) ?? settle(scenarios.get(title)!));
    if (!outcome.ok) throw outcome.error;
  };

  before(async function () {
    this.timeout(180_000);
    await faultsPlane();
    inBackground(title4);
    inBackground(idleTitle);
  });

  // Phase 2: alongside the background scenarios.
  it(title2, twoReplicas).timeout(300_000);
  it(title3, sigkillConverging).timeout(420_000 + faultParameter('MAESTRO_FAULT_PARENTS', 500) * 200);
  it(title5, hostileInput).timeout(300_000);
  it(title6, ownershipConflict).timeout(180_000);
  it(title8, throwingCollector).timeout(120_000);
  it(title10, deleteRacesFinalizer).timeout(180_000);
  // Phase 3: the background scenarios' results.
  it(title4, awaited(title4)).timeout(faultParameter('MAESTRO_FAULT_BLACKHOLE_MS', 90_000) + 300_000);
  it(idleTitle, awaited(idleTitle)).timeout(faultParameter('MAESTRO_FAULT_IDLE_MS', 100_000) + 240_000);
  // Phase 4: the API server stops or restarts, one scenario at a time.
  it(title1, leadershipBusy).timeout(240_000);
  it(restartTitle, restartUnderInformers).timeout(240_000);
  it(title9, unreachableWithoutServer).timeout(180_000);
});
