import { parseArgs } from 'node:util';
import { allBinaries, buildControlPlane, cacheDir, cachedBinaries, readVersions, toolsDir, type ControlPlaneBinary } from '../testing/build.js';
import { UsageError } from './usage.js';

export const ENVTEST_HELP = `Usage: maestro-operator envtest [--print] [--binaries <list>]

Finds or builds the local control plane's binaries of the pinned release (kube-apiserver,
etcd, kube-controller-manager, kube-scheduler, kwok, kubectl) in Maestro's cache and prints
their folder, for KUBEBUILDER_ASSETS: the counterpart of controller-runtime's
\`setup-envtest use -p path\`. The first build on a machine needs Go and the Go module proxy;
progress goes to standard error, the folder to standard output.

  export KUBEBUILDER_ASSETS=$(npx maestro-operator envtest)

Options:
  --print             build nothing: print the folder if the binaries are built, else exit 1
  --binaries <list>   comma-separated subset to build (default: all of them)
  -h, --help          show this help

Environment: MAESTRO_CACHE_DIR (default ~/.cache/maestro-operator) is where binaries are kept.
`;

/**
 * `maestro-operator envtest`: builds what is missing (unless `--print`) and writes the
 * folder to stdout. Returns the exit code.
 */
export async function envtest(args: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { print: { type: 'boolean' }, binaries: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    out(ENVTEST_HELP.trimEnd());
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`envtest takes no arguments, got '${positionals.join(' ')}'\n\n${ENVTEST_HELP}`);
  const wanted = values.binaries === undefined ? [...allBinaries] : values.binaries.split(',').map((b) => b.trim()).filter(Boolean);
  const unknown = wanted.filter((b) => !allBinaries.includes(b as ControlPlaneBinary));
  if (unknown.length > 0 || wanted.length === 0) throw new UsageError(`--binaries: unknown '${unknown.join(', ')}' (choose from ${allBinaries.join(', ')})`);
  const tools = toolsDir();
  if (!tools) throw new Error('tools/control-plane is not in this installation of maestro-operator');
  const versions = readVersions(tools);
  const dir = cacheDir(versions);
  if (values.print) {
    const present = await cachedBinaries(dir, versions);
    const missing = wanted.filter((b) => !present.has(b as ControlPlaneBinary));
    if (missing.length > 0) {
      process.stderr.write(`maestro-operator: ${missing.join(', ')} not built yet in ${dir}; run 'maestro-operator envtest' to build ${missing.length > 1 ? 'them' : 'it'}\n`);
      return 1;
    }
  } else {
    await buildControlPlane(wanted as ControlPlaneBinary[]);
  }
  out(dir);
  return 0;
}
