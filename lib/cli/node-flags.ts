/**
 * The Node.js flags Maestro's operators run with: the sample's image (its Dockerfile's
 * ENTRYPOINT), the `init` scaffold's `npm start`, and the benchmark's Maestro contender,
 * which measures the operator as it is deployed.
 *
 * `--max-semi-space-size=8` (MiB): V8's young generation otherwise grows to 2 × 16 MiB on
 * a machine with a few GiB of memory, and an operator's request-heavy convergence, which
 * allocates mostly short-lived objects (responses, patches, events), lets the resident
 * memory grow far beyond the live heap. Measured with `npm run bench` at N = 1,000 (see
 * bench/README.md): peak RSS 265 → 169–184 MiB, convergence CPU unchanged within noise
 * (1 MiB saves a little more memory for 10–15 % more CPU).
 *
 * `--optimize-for-size`: V8 favours memory over speed, above all by growing the old
 * generation less before it collects. Measured on the bundled operator at N = 1,000,
 * alternating: peak RSS 157–163 → 114–121 MiB, at rest 90 → 87 MiB, for about 10 % more
 * CPU during convergence (an operator spends its life mostly idle; its memory is reserved
 * for all of it). It also makes a deadlock of `process.exit` in Node more likely, which is
 * why operators end by draining their event loop (lib/runtime/exit.ts).
 *
 * V8 reads these when the process starts (`v8.setFlagsFromString` later has no effect), so
 * they are command-line flags; the compile cache `maestro-operator bundle` prepares is for
 * them (V8 rejects code cached under other flags).
 */
export const OPERATOR_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=8', '--optimize-for-size']);
