/**
 * Admission and conversion webhooks served by a process on loopback, registered with a
 * local control plane (envtest's `WebhookInstallOptions`): a CA and a serving certificate
 * for 127.0.0.1 in a temporary directory, the webhook configurations with `url` and
 * `caBundle`, and the CRDs' conversion webhooks pointed at the same server. The operator
 * under test then serves them with `webhooks: installed.serverOptions`.
 *
 * @module
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api, ApiextensionsV1Api, PatchStrategy, setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { CONVERSION_PATH, type WebhookSpec } from '../declare/webhooks.js';
import { generateWebhookConfigurations } from '../generate/webhooks.js';
import { webhookClientConfig } from '../generate/crd.js';
import { createWebhookCertificates } from '../server/webhook-certificates.js';
import { freePorts } from './process.js';

/** Options of {@link installWebhooks}. */
export interface WebhookInstallOptions {
  /** The kinds whose webhooks to register (`buildSpecs({ components }).webhooks`, or `webhookSpecsOf([Kind])`). */
  webhooks: readonly WebhookSpec[];
  /** Names the configurations `<name>-validating` and `<name>-mutating` (default `maestro-envtest`). */
  name?: string;
  /** The loopback address the API server calls (default `127.0.0.1`). */
  host?: string;
  /** The port the webhook server will listen on (default: a free one). */
  port?: number;
  /** Default `Fail`. */
  failurePolicy?: 'Fail' | 'Ignore';
  /** Default 10. */
  timeoutSeconds?: number;
}

/** What {@link installWebhooks} registered, and how to serve it. */
export interface InstalledWebhooks {
  readonly host: string;
  readonly port: number;
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The CA the API server trusts (PEM). */
  readonly caBundle: string;
  /** A directory with `tls.crt` and `tls.key` for `host`, signed by the CA. */
  readonly certDir: string;
  /** The webhook options for the operator: `createOperator({ webhooks: installed.serverOptions })`. */
  readonly serverOptions: { port: number; host: string; tls: { certDir: string } };
  /** Deletes the configurations, sets the CRDs' conversion back to `None`, removes the certificate directory. */
  uninstall(): Promise<void>;
}

const isNotFound = (err: unknown) => (err as { code?: unknown })?.code === 404;

/**
 * Registers `options.webhooks` with the API server of `kubeConfig`, calling a webhook
 * server on `https://<host>:<port>` (which the caller starts, e.g. an operator with
 * `webhooks: installed.serverOptions`). The CRDs of kinds with several versions must be
 * installed first; their conversion webhook is pointed at the server. The API server
 * applies new configurations within a moment: wait for their effect with `eventually`.
 *
 * @example
 * ```ts
 * await plane.installCRDs([generateCRD(StaticSite)]);
 * const webhooks = await installWebhooks(plane.kubeConfig, { webhooks: buildSpecs({ components }).webhooks });
 * const operator = createOperator({ kubeConfig: plane.kubeConfig, components, webhooks: webhooks.serverOptions });
 * ```
 */
export async function installWebhooks(kubeConfig: KubeConfig, options: WebhookInstallOptions): Promise<InstalledWebhooks> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePorts(1))[0]!;
  const name = options.name ?? 'maestro-envtest';
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const certificates = await createWebhookCertificates(name, [host, 'localhost']);
  const certDir = await mkdtemp(join(tmpdir(), 'maestro-webhook-certs-'));
  await writeFile(join(certDir, 'tls.crt'), certificates.serving.certPem);
  await writeFile(join(certDir, 'tls.key'), certificates.serving.keyPem, { mode: 0o600 });
  const client = { url, caBundle: certificates.caPem };

  const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const configurations = generateWebhookConfigurations(options.webhooks, {
    name, client, failurePolicy: options.failurePolicy, timeoutSeconds: options.timeoutSeconds,
  });
  for (const configuration of configurations) {
    const configName = configuration.metadata!.name!;
    if (configuration.kind === 'ValidatingWebhookConfiguration') {
      await admission.deleteValidatingWebhookConfiguration({ name: configName }).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
      await admission.createValidatingWebhookConfiguration({ body: configuration });
    } else {
      await admission.deleteMutatingWebhookConfiguration({ name: configName }).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
      await admission.createMutatingWebhookConfiguration({ body: configuration });
    }
  }
  const crds = options.webhooks.filter((s) => s.conversion).map((s) => `${s.plural}.${s.group}`);
  const setConversion = async (crd: string, conversion: Record<string, unknown>) => {
    await extensions.patchCustomResourceDefinition({ name: crd, body: { spec: { conversion } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  };
  for (const crd of crds) {
    // A merge patch: `service: null` removes the generated Service (a client config has exactly one of url and service).
    await setConversion(crd, { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: null, ...webhookClientConfig(client, CONVERSION_PATH) } } });
  }

  return {
    host, port, url, caBundle: certificates.caPem, certDir,
    serverOptions: { port, host, tls: { certDir } },
    async uninstall() {
      for (const configuration of configurations) {
        const configName = configuration.metadata!.name!;
        const remove = configuration.kind === 'ValidatingWebhookConfiguration'
          ? admission.deleteValidatingWebhookConfiguration({ name: configName })
          : admission.deleteMutatingWebhookConfiguration({ name: configName });
        await remove.catch((err: unknown) => { if (!isNotFound(err)) throw err; });
      }
      for (const crd of crds) {
        await setConversion(crd, { strategy: 'None', webhook: null }).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
      }
      await rm(certDir, { recursive: true, force: true });
    },
  };
}
