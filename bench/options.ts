// The command line of `npm run bench` (pure: parsed here, acted on in run.ts).
import { parseArgs } from 'node:util';
import { CONTENDERS, type ContenderName } from './convergence.js';

export const SCENARIOS = ['convergence', 'steady', 'startup', 'overhead', 'cache'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  /** Parents per convergence run, one run set per value (ascending). */
  n: number[];
  /** Rounds at each N (same length as `n`). */
  rounds: number[];
  concurrency: number;
  cacheObjects: number;
  only: Scenario[];
  contenders: ContenderName[];
  json: boolean;
  save: string | undefined;
  profile: boolean;
  /** Heap snapshots of the Maestro contender after convergence and after startup (diagnosis only). */
  heapSnapshot: boolean;
  /** Run the Maestro contender from its compiled modules (node_modules) instead of its bundle (for comparison). */
  maestroModules: boolean;
  /** Saved results (--save) to report instead of running anything. */
  from: string[];
  help: boolean;
}

/** What `--quick` stands for (each part only when not given explicitly). */
export const QUICK = { n: '200', rounds: '1', only: 'convergence,steady,startup' } as const;

export const USAGE = `usage: npm run bench -- [--n 1000[,10000]] [--rounds 4[,1]] [--concurrency 8] [--quick]
                  [--only ${SCENARIOS.join(',')}] [--contenders ${CONTENDERS.join(',')}]
                  [--cache-objects 10000] [--json] [--save FILE] [--profile] [--heap-snapshot] [--from FILE[,FILE]]
                  [--maestro-modules]
  --n            parents per convergence run; a list runs every N (default 1000)
  --rounds       rounds (contenders alternate within a round); one value, or one per N
                 (default: as many as contenders, so that each goes first once)
  --quick        a quick look: --n ${QUICK.n} --rounds ${QUICK.rounds} --only ${QUICK.only} unless given
  --only         scenarios (default all); steady and startup run after convergence, so they imply it
  --contenders   default all; 'cr' stands for controller-runtime
  --profile      .cpuprofile files of the Maestro contender into bench/profiles/
  --heap-snapshot  .heapsnapshot files of the Maestro contender (after convergence, after startup)
                 into bench/profiles/; both cost the contender CPU and memory: not for published figures
  --maestro-modules  run the Maestro contender from dist/ and node_modules instead of the
                 bundle \`maestro-operator bundle\` makes of it (how its image ships it)
  --save FILE    also write the JSON result to FILE
  --from FILES   print the report of saved results (--save), merged, without running anything
`;

const ALIASES: Record<string, string> = {
  'steady-state': 'steady', memory: 'cache', conductor: 'overhead', cr: 'controller-runtime', 'controller-runtime': 'controller-runtime',
};

function int(name: string, value: string, min: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} must be an integer >= ${min}, got '${value}'`);
  return parsed;
}

function ints(name: string, value: string, min: number): number[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!parts.length) throw new Error(`--${name} needs a value`);
  return parts.map((p) => int(name, p, min));
}

function list<T extends string>(name: string, value: string | undefined, all: readonly T[]): T[] {
  if (!value) return [...all];
  const picked = value.split(',').map((s) => s.trim()).filter(Boolean).map((s) => ALIASES[s] ?? s);
  for (const p of picked) if (!all.includes(p as T)) throw new Error(`--${name}: unknown '${p}' (one of ${all.join(', ')})`);
  if (!picked.length) throw new Error(`--${name} needs a value`);
  return all.filter((a) => picked.includes(a));
}

/** Parses the bench's arguments; throws an Error with a message for the user on bad input. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      n: { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      contenders: { type: 'string' },
      'cache-objects': { type: 'string', default: '10000' },
      json: { type: 'boolean', default: false },
      save: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'heap-snapshot': { type: 'boolean', default: false },
      'maestro-modules': { type: 'boolean', default: false },
      from: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const ns = ints('n', values.n ?? (values.quick ? QUICK.n : '1000'), 1);
  if (new Set(ns).size !== ns.length) throw new Error(`--n lists a value twice: '${values.n}'`);
  const contenders = list<ContenderName>('contenders', values.contenders, CONTENDERS);
  // By default as many rounds as contenders: each then goes first (and last) once.
  const rs = ints('rounds', values.rounds ?? (values.quick ? QUICK.rounds : String(contenders.length)), 1);
  if (rs.length !== 1 && rs.length !== ns.length) {
    throw new Error(`--rounds takes one value or one per N (${ns.length}), got ${rs.length}`);
  }
  // Ascending N, each with its rounds.
  const pairs = ns.map((n, i) => ({ n, rounds: rs.length === 1 ? rs[0]! : rs[i]! })).sort((a, b) => a.n - b.n);
  const only = list<Scenario>('only', values.only ?? (values.quick ? QUICK.only : undefined), SCENARIOS);
  // Steady state and startup run on the Sites the convergence made.
  if ((only.includes('steady') || only.includes('startup')) && !only.includes('convergence')) only.unshift('convergence');
  return {
    n: pairs.map((p) => p.n),
    rounds: pairs.map((p) => p.rounds),
    concurrency: int('concurrency', values.concurrency, 1),
    cacheObjects: int('cache-objects', values['cache-objects'], 1),
    only: SCENARIOS.filter((s) => only.includes(s)),
    contenders,
    json: values.json,
    save: values.save,
    profile: values.profile,
    heapSnapshot: values['heap-snapshot'],
    maestroModules: values['maestro-modules'],
    from: values.from ? values.from.split(',').map((s) => s.trim()).filter(Boolean) : [],
    help: values.help,
  };
}
