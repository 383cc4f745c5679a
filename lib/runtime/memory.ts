/**
 * V8's memory mode for a started operator.
 *
 * @module
 */
import { setFlagsFromString } from 'node:v8';

let applied = false;

/**
 * Makes V8 favour memory over speed for the rest of the process, as `node
 * --optimize-for-size` does: the old generation grows less before it is collected, which
 * bounds an operator's peak memory (measured: peak RSS −25 to −30 MiB at N = 1,000 parents,
 * for about 10 % more CPU during convergence).
 *
 * Why at run time and not on the command line: under any V8 flag that changes generated
 * code, V8 rejects the code Node ships cached for its own modules (it checks a hash of the
 * flags) and Node compiles them again at every start; with the heavier collections at start
 * that is about 70 ms of CPU (about 50 ms of it saved set here: the rest is the flag's cost
 * while the caches fill). Set when the operator starts, after its modules are loaded and
 * before its caches fill, the flag governs all the rest of its life. (The flag's implied
 * young-generation size is not applied at run time; the operator flags give it on the
 * command line: `--max-semi-space-size=1`.)
 *
 * Idempotent; process-wide; there is no way back.
 */
export function optimizeForSize(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--optimize-for-size');
}
