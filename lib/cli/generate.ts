import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry, buildSpecs, customResources } from '../declare/index.js';
import { crdYAML, rbacYAML } from '../generate/index.js';
import { UsageError } from './usage.js';

export const GENERATE_HELP = `Usage:
  maestro-operator generate crd <module...> [--out <file>]
  maestro-operator generate rbac <module...> --name <operator> --service-account <namespace>/<name>
                                 [--namespaces <a,b>] [--leader-election <namespace>] [--no-metrics-auth]
                                 [--out <file>]

Imports the compiled modules (e.g. dist/src/reconcilers.js), which declare the operator's
classes, and writes YAML for them to --out (default: standard output):
  crd   one CustomResourceDefinition per @Resource class: a structural schema from the
        property types and class-validator constraints, the status subresource, printer
        columns for Ready and Reason
  rbac  the ServiceAccount and least-privilege (Cluster)Role + binding from @Parent,
        @Owns, @Uses and @Finalizer (the verbs the runtime calls); Lease permissions with
        --leader-election; a Role per namespace with --namespaces (an operator that watches
        only those); the <name>-metrics-auth ClusterRole (TokenReviews and
        SubjectAccessReviews, for the default HTTPS metrics) and the <name>-metrics-reader
        ClusterRole for scrapers, unless --no-metrics-auth (an operator run with
        server: false or server: { secure: false })

Options:
  --out <file>   write to a file instead of standard output
  -h, --help     show this help
`;

async function load(modules: string[]): Promise<void> {
  if (modules.length === 0) throw new UsageError(`name at least one compiled module\n\n${GENERATE_HELP}`);
  for (const module of modules) await import(pathToFileURL(resolve(module)).href);
}

async function output(yaml: string, out: string | undefined): Promise<void> {
  if (!out) return void process.stdout.write(yaml);
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFile(out, yaml);
  process.stderr.write(`wrote ${out}\n`);
}

/** `maestro-operator generate <crd|rbac> ...`; returns the exit code. */
export async function generate(args: string[]): Promise<number> {
  const [what, ...rest] = args;
  if (!what || what === '--help' || what === '-h') {
    process.stdout.write(GENERATE_HELP);
    return what ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      name: { type: 'string' },
      'service-account': { type: 'string' },
      namespaces: { type: 'string' },
      'leader-election': { type: 'string' },
      'no-metrics-auth': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(GENERATE_HELP);
    return 0;
  }
  if (what === 'crd') {
    await load(positionals);
    const types = customResources().map((c) => c.type);
    if (types.length === 0) throw new UsageError('the modules declare no @Resource class');
    await output(crdYAML(types), values.out);
    return 0;
  }
  if (what === 'rbac') {
    if (!values.name) throw new UsageError(`generate rbac needs --name <operator>\n\n${GENERATE_HELP}`);
    const [saNamespace, saName] = (values['service-account'] ?? '').split('/');
    if (!saNamespace || !saName) throw new UsageError(`generate rbac needs --service-account <namespace>/<name>\n\n${GENERATE_HELP}`);
    await load(positionals);
    if (Registry.default.components().length === 0) throw new UsageError('the modules declare no decorated reconciler, finalizer or status handler');
    await output(rbacYAML(buildSpecs(), {
      name: values.name,
      serviceAccount: { namespace: saNamespace, name: saName },
      namespaces: values.namespaces?.split(',').map((n) => n.trim()).filter(Boolean),
      leaderElection: values['leader-election'] ? { namespace: values['leader-election'] } : false,
      metricsAuth: !values['no-metrics-auth'],
    }), values.out);
    return 0;
  }
  throw new UsageError(`unknown generator '${what}'\n\n${GENERATE_HELP}`);
}
