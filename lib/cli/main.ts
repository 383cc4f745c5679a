#!/usr/bin/env node
// The maestro-operator command: scaffold an operator project, generate CRD and RBAC YAML.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { describeError } from '../errors/index.js';
import { UsageError } from './usage.js';

// Each command's module is imported when it runs: `--help` and usage errors then load no
// Kubernetes client (whose import alone costs about a second of CPU and 80 MiB).

const HELP = `maestro-operator: tools for Kubernetes operators written with Maestro

Usage:
  maestro-operator init <dir> [options]        scaffold a new operator project from the static-site sample
  maestro-operator generate crd <module...>    write CRD YAML for the @Resource classes of compiled modules
  maestro-operator generate rbac <module...>   write least-privilege RBAC YAML for the decorated components
  maestro-operator generate webhooks <module...>  write admission webhook configurations, their Service and RBAC
  maestro-operator bundle <entry.js>            bundle the compiled operator into one ES module and its side files (dist/bundle), for its image
  maestro-operator envtest [--print]           find or build kube-apiserver, etcd, ... and print their folder (KUBEBUILDER_ASSETS)

Run 'maestro-operator <command> --help' for a command's options.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return command ? 0 : 1;
  }
  if (command === 'init') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { name: { type: 'string' }, maestro: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    const { init, INIT_HELP } = await import('./init.js');
    if (values.help) return void process.stdout.write(INIT_HELP), 0;
    if (positionals.length !== 1) throw new UsageError(`init takes one directory\n\n${INIT_HELP}`);
    await init(positionals[0]!, { name: values.name, maestro: values.maestro, force: values.force ?? false, log: (l) => process.stdout.write(`${l}\n`) });
    return 0;
  }
  if (command === 'generate') {
    const { generate } = await import('./generate.js');
    return generate(rest);
  }
  if (command === 'bundle') {
    const { bundleCommand } = await import('./bundle.js');
    return bundleCommand(rest, (line) => process.stdout.write(`${line}\n`));
  }
  if (command === 'envtest') {
    const { envtest } = await import('./envtest.js');
    return envtest(rest, (line) => process.stdout.write(`${line}\n`));
  }
  throw new UsageError(`unknown command '${command}'\n\n${HELP}`);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`maestro-operator: ${err instanceof UsageError ? err.message : describeError(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
