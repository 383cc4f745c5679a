/**
 * The Node.js flags Maestro's operators run with: the sample's image (its Dockerfile's
 * ENTRYPOINT), the `init` scaffold's `npm start`, and the benchmark's Maestro contender,
 * which measures the operator as it is deployed.
 *
 * `--max-semi-space-size=4` (MiB): V8's young generation otherwise grows to 2 × 16 MiB on
 * a machine with a few GiB of memory, and an operator's request-heavy convergence, which
 * allocates mostly short-lived objects (responses, patches, events), lets the resident
 * memory grow far beyond the live heap (measured with `npm run bench` at N = 1,000, see
 * bench/README.md: peak RSS 265 → 145–160 MiB with 1 MiB). 4 rather than 1: a quarter of
 * the scavenges, less of what is still in flight copied and promoted, about 0.2 s less CPU
 * per 1,000 parents converged for 5–7 MiB more peak (bench/README.md, *A young generation
 * of 4 MiB*).
 *
 * No flag among them changes the code V8 generates: under such a flag (`--optimize-for-size`,
 * for one) V8 rejects the code Node caches for its own modules (V8 checks a hash of the flags
 * that change code; heap sizes are not among those), about 70 ms more CPU at every start.
 * The old generation's growth is bounded by `Operator.start()` instead, after the modules are
 * loaded (`start({ optimizeForSize })`, lib/runtime/memory.ts).
 *
 * V8 sizes the young generation when the process starts (`v8.setFlagsFromString` later does
 * not resize it), so this is a command-line flag; the compile cache `maestro-operator
 * bundle` prepares is for these flags (V8 rejects code cached under others).
 */
export const OPERATOR_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=4']);
