// Summaries of the diagnosis files `npm run bench -- --profile --heap-snapshot` writes:
//   node dist/bench/profile-summary.js FILE.cpuprofile     self time by package and by function
//   node --max-old-space-size=4096 dist/bench/profile-summary.js FILE.heapsnapshot
//                                                         self size by kind of object
// Plain tables on stdout, for finding where the CPU and the memory go.
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** The package a script URL belongs to: `client-node`, `maestro lib/cache`, `node:internal`, ... */
export function packageOf(url: string, functionName = ''): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node (built-in)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const lib = /\/dist\/(lib|decorators|bench)\/(?:([^/]+)\/)?[^/]+$/.exec(url);
  if (lib) return `maestro ${lib[1]}${lib[2] && lib[1] !== 'bench' ? `/${lib[2]}` : ''}`;
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time (ms) by package and by function, and inclusive time by package (samples with
 * the package anywhere on the stack), from a V8 .cpuprofile. Time inside `writeHeapSnapshot`
 * (--heap-snapshot) is left out like idle time.
 */
export function summarizeCpuProfile(profile: CpuProfile): { totalMs: number; byPackage: Map<string, number>; byFunction: Map<string, number>; inclusive: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = nodes.get(profile.samples[i]!);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const stack = new Set<string>();
    let skip = false;
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = nodes.get(id)!.callFrame;
      if (frame.functionName === 'writeHeapSnapshot') skip = true;
      if (frame.url || frame.functionName.startsWith('(')) stack.add(packageOf(frame.url, frame.functionName));
    }
    if (skip) continue;
    for (const pkg of stack) inclusive.set(pkg, (inclusive.get(pkg) ?? 0) + ms);
    totalMs += ms;
    const pkg = packageOf(node.callFrame.url, node.callFrame.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const where = node.callFrame.url ? ` ${node.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '')}:${node.callFrame.lineNumber + 1}` : '';
    const fn = `${node.callFrame.functionName || '(anonymous)'}${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  return { totalMs, byPackage, byFunction, inclusive };
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count by kind of object (constructor name for objects, the type otherwise), from a V8 .heapsnapshot. */
export function summarizeHeapSnapshot(snapshot: HeapSnapshot): { totalBytes: number; byKind: Map<string, { bytes: number; count: number }> } {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byKind = new Map<string, { bytes: number; count: number }>();
  let totalBytes = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!] ?? '?';
    const size = snapshot.nodes[i + sizeAt]!;
    const name = snapshot.strings[snapshot.nodes[i + nameAt]!] ?? '';
    let kind: string;
    if (type === 'object' || type === 'closure') kind = `${name}${type === 'closure' ? ' (closure)' : ''}`;
    else if (type === 'string' || type === 'concatenated string' || type === 'sliced string') kind = '(strings)';
    else if (type === 'array') kind = `(array) ${name}`;
    else kind = `(${type})`;
    const entry = byKind.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count++;
    byKind.set(kind, entry);
    totalBytes += size;
  }
  return { totalBytes, byKind };
}

function top<V>(map: Map<string, V>, by: (v: V) => number, n: number): Array<[string, V]> {
  return [...map.entries()].sort((a, b) => by(b[1]) - by(a[1])).slice(0, n);
}

function main(file: string): void {
  const data = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | HeapSnapshot;
  // A heap snapshot has `snapshot` (and an empty `samples` of its own).
  if (!('snapshot' in data)) {
    const { totalMs, byPackage, byFunction, inclusive } = summarizeCpuProfile(data);
    process.stdout.write(`${file}: ${(totalMs / 1000).toFixed(2)} s of samples (idle and heap snapshots excluded)\n\n| package | self ms | % | inclusive ms | % |\n|---|---:|---:|---:|---:|\n`);
    for (const [pkg, ms] of top(byPackage, (v) => v, 20)) {
      const inc = inclusive.get(pkg) ?? 0;
      process.stdout.write(`| ${pkg} | ${ms.toFixed(0)} | ${((100 * ms) / totalMs).toFixed(1)} | ${inc.toFixed(0)} | ${((100 * inc) / totalMs).toFixed(1)} |\n`);
    }
    process.stdout.write('\n| function | self ms | % |\n|---|---:|---:|\n');
    for (const [fn, ms] of top(byFunction, (v) => v, 40)) process.stdout.write(`| \`${fn}\` | ${ms.toFixed(0)} | ${((100 * ms) / totalMs).toFixed(1)} |\n`);
  } else {
    const { totalBytes, byKind } = summarizeHeapSnapshot(data);
    process.stdout.write(`${file}: ${(totalBytes / 2 ** 20).toFixed(1)} MiB in the heap snapshot\n\n| kind | self MiB | count | % |\n|---|---:|---:|---:|\n`);
    for (const [kind, { bytes, count }] of top(byKind, (v) => v.bytes, 30)) {
      process.stdout.write(`| ${kind} | ${(bytes / 2 ** 20).toFixed(2)} | ${count.toLocaleString('en-US')} | ${((100 * bytes) / totalBytes).toFixed(1)} |\n`);
    }
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile-summary.js FILE.cpuprofile|FILE.heapsnapshot\n');
    process.exit(2);
  }
  main(file);
}
