import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry, buildSpecs, customResources } from '../declare/index.js';
import { crdYAML, generateCRD, rbacYAML, webhookYAML, type WebhookClient } from '../generate/index.js';
import { UsageError } from './usage.js';

export const GENERATE_HELP = `Usage:
  maestro-operator generate crd <module...> [--webhook-service <namespace>/<name>] [--out <file>]
  maestro-operator generate webhooks <module...> --name <operator> --service-account <namespace>/<name>
                                 [--failure-policy Fail|Ignore] [--out <file>]
  maestro-operator generate rbac <module...> --name <operator> --service-account <namespace>/<name>
                                 [--namespaces <a,b>] [--leader-election <namespace>] [--no-metrics-auth]
                                 [--out <file>]

Imports the compiled modules (e.g. dist/src/reconcilers.js), which declare the operator's
classes, and writes YAML for them to --out (default: standard output):
  crd   one CustomResourceDefinition per @Resource class: a structural schema from the
        property types and class-validator constraints, the status subresource, printer
        columns for Ready and Reason; a kind declared in several versions (@Converts) gets
        them all, the hub stored, and a conversion webhook calling --webhook-service
        (default: the Service webhook-service in namespace system)
  webhooks  the Validating- and MutatingWebhookConfiguration of the kinds that need them
        (constraints, validate(), @Deprecated; @Default), calling the Service <name>-webhook
        in the service account's namespace, that Service, and RBAC for the operator to keep
        its CA bundle injected (createOperator({ webhooks: {} }))
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

/** `maestro-operator generate <crd|rbac|webhooks> ...`; returns the exit code. */
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
      'webhook-service': { type: 'string' },
      'failure-policy': { type: 'string' },
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
    let webhook: WebhookClient | undefined;
    if (values['webhook-service']) {
      const [namespace, name] = values['webhook-service'].split('/');
      if (!namespace || !name) throw new UsageError(`--webhook-service needs <namespace>/<name>\n\n${GENERATE_HELP}`);
      webhook = { service: { name, namespace } };
    }
    await output(crdYAML(types.map((type) => generateCRD(type, { webhook }))), values.out);
    return 0;
  }
  if (what === 'webhooks') {
    if (!values.name) throw new UsageError(`generate webhooks needs --name <operator>\n\n${GENERATE_HELP}`);
    const [saNamespace, saName] = (values['service-account'] ?? '').split('/');
    if (!saNamespace || !saName) throw new UsageError(`generate webhooks needs --service-account <namespace>/<name>\n\n${GENERATE_HELP}`);
    const failurePolicy = values['failure-policy'] ?? 'Fail';
    if (failurePolicy !== 'Fail' && failurePolicy !== 'Ignore') throw new UsageError(`--failure-policy is Fail or Ignore, got ${failurePolicy}`);
    await load(positionals);
    const types = customResources().map((c) => c.type);
    if (types.length === 0) throw new UsageError('the modules declare no @Resource class');
    await output(webhookYAML(types, {
      name: values.name,
      failurePolicy,
      client: { service: { name: `${values.name}-webhook`, namespace: saNamespace } },
      service: { namespace: saNamespace, serviceAccount: saName },
    }), values.out);
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
