/**
 * The operator's webhooks at run time: the HTTPS server answering the API server's
 * admission and conversion calls for the kinds of `spec.webhooks`, and, unless a
 * certificate is mounted, the certificate it serves and the CA bundle the API server needs
 * to trust it.
 *
 * @module
 */
import {
  V1CustomResourceDefinition, V1MutatingWebhookConfiguration, V1Secret, V1ValidatingWebhookConfiguration,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { Client, JsonPatchOperation } from '../client/client.js';
import { isAlreadyExists, isConflict, isNotFound } from '../client/errors.js';
import type { WebhookSpec } from '../declare/webhooks.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import {
  WebhookServer, createWebhookCertificates, issueServingCertificate, webhookCertificatesUsable,
  type WebhookCertificates, type WebhookRequestRecord,
} from '../server/index.js';
import { WebhookHandlers } from '../webhook/handlers.js';

/**
 * Options of the webhook server (`createOperator({ webhooks })`).
 *
 * @example
 * ```ts
 * createOperator({ webhooks: {} });                                        // port 9443, the operator's own CA (in a Secret), CA bundle injected
 * createOperator({ webhooks: { tls: { certDir: '/tmp/k8s-webhook-server/serving-certs' } } }); // a mounted certificate (cert-manager)
 * ```
 */
export interface WebhookOptions {
  /** Port (default 9443); 0 picks a free one. */
  port?: number;
  /** Address to bind (default: every interface, IPv6 and IPv4). */
  host?: string;
  /**
   * Serve a mounted certificate (a `kubernetes.io/tls` Secret's directory, or the two
   * files), reloaded when it changes; the CA bundle is then someone else's job (e.g.
   * cert-manager's CA injector: the generated configurations take its annotation). Default:
   * the operator's own CA, see `secretName`.
   */
  tls?: { certDir: string } | { certFile: string; keyFile: string };
  /**
   * The webhook Service (default: `<operator name>-webhook` in `POD_NAMESPACE`, else the
   * kubeconfig's namespace, else `default`): the serving certificate is issued for its DNS
   * names, and only webhooks that call it get the CA bundle; when the operator injects it
   * (no `tls`), a configuration that calls another Service is logged as a warning naming both.
   */
  service?: { name?: string; namespace?: string };
  /**
   * Without `tls`: the Secret (in the Service's namespace) holding the operator's CA and
   * serving certificate (default `<operator name>-webhook-cert`). The first replica creates
   * it; every replica serves the same certificate; it is renewed 30 days before it expires.
   */
  secretName?: string;
  /**
   * Write the CA's certificate into the `caBundle` of the webhook configurations below
   * and of the CRDs' conversion webhooks, at start and every `refreshIntervalMs` (default:
   * `true` without `tls`, else `false`).
   */
  injectCABundle?: boolean;
  /** The configurations to inject into (default `<operator name>-validating` and `<operator name>-mutating`, as generated). */
  configurationNames?: { validating?: string; mutating?: string };
  /** How often the certificate and the CA bundles are checked again (default 5 minutes). */
  refreshIntervalMs?: number;
  /** Called after each webhook request (metrics). */
  onRequest?: (record: WebhookRequestRecord) => void;
}

/** What Maestro reads of a webhook's `clientConfig` (admission configurations and CRD conversion alike). */
type ClientConfig = { service?: { name?: string; namespace?: string }; caBundle?: string };

/** The context client-node's `loadFromCluster` makes (the operator runs in a Pod, with its service account). */
const IN_CLUSTER_CONTEXT = 'inClusterContext';

/** Where the served namespace came from, as the warning about a configuration calling another Service says it. */
const NAMESPACE_FROM = {
  POD_NAMESPACE: 'from POD_NAMESPACE',
  kubeconfig: "no POD_NAMESPACE; the kubeconfig context's namespace",
  default: 'no POD_NAMESPACE and no namespace in the kubeconfig context',
} as const;

/** Secret keys of the operator's own CA (besides `tls.crt` and `tls.key`). */
const CA_CERT_KEY = 'ca.crt';
const CA_KEY_KEY = 'ca.key';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined) => (text === undefined ? undefined : Buffer.from(text, 'base64').toString('utf8'));

/** What the webhooks need of the manager. */
export interface WebhookRuntimeDeps {
  name: string;
  kubeConfig: KubeConfig;
  client: Client;
  logger: Logger;
}

/**
 * Serves `specs`' webhooks and keeps their certificate trusted. Started by the Manager
 * before the caches (the operator's own watches of a kind may need its conversion webhook).
 */
export class WebhookRuntime {
  readonly handlers: WebhookHandlers;
  readonly server: WebhookServer;
  readonly #specs: readonly WebhookSpec[];
  readonly #options: WebhookOptions;
  readonly #deps: WebhookRuntimeDeps;
  readonly #service: { name: string; namespace: string };
  /** Where the Service's namespace came from, for the hint when a configuration calls another. */
  readonly #namespaceFrom: 'webhooks.service' | 'POD_NAMESPACE' | 'kubeconfig' | 'default';
  readonly #selfManaged: boolean;
  #certificates: WebhookCertificates | undefined;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  /** Configurations said to call another Service, with the Services: said again only when that changes, not at every refresh. */
  readonly #misdirected = new Map<string, string>();

  constructor(specs: readonly WebhookSpec[], options: WebhookOptions, deps: WebhookRuntimeDeps) {
    this.#specs = specs;
    this.#options = options;
    this.#deps = deps;
    this.#selfManaged = !options.tls;
    const context = deps.kubeConfig.getContextObject(deps.kubeConfig.getCurrentContext());
    const [namespace, from] = options.service?.namespace !== undefined ? [options.service.namespace, 'webhooks.service' as const]
      : process.env.POD_NAMESPACE !== undefined ? [process.env.POD_NAMESPACE, 'POD_NAMESPACE' as const]
        : context?.namespace !== undefined ? [context.namespace, 'kubeconfig' as const] : ['default', 'default' as const];
    this.#service = { name: options.service?.name ?? `${deps.name}-webhook`, namespace };
    this.#namespaceFrom = from;
    this.handlers = new WebhookHandlers(specs);
    this.server = new WebhookServer({
      handler: this.handlers,
      port: options.port,
      host: options.host,
      ...(options.tls ? { tls: options.tls } : {}),
      onRequest: options.onRequest,
      logger: deps.logger,
    });
  }

  /** The DNS names the serving certificate is for. */
  get dnsNames(): string[] {
    const { name, namespace } = this.#service;
    return [`${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
  }

  /** The CA bundle (PEM) the API server must trust, when the operator manages it. */
  get caBundle(): string | undefined {
    return this.#certificates?.caPem;
  }

  /** Provisions the certificate (own CA), starts the server, injects the CA bundle. */
  async start(): Promise<void> {
    if (this.#selfManaged) {
      this.#certificates = await this.#ensureCertificates();
      this.server.setCertificate(this.#certificates.serving);
    }
    await this.server.start();
    if (this.#options.injectCABundle ?? this.#selfManaged) await this.#inject();
    if (this.#selfManaged || this.#options.injectCABundle) {
      this.#timer = setInterval(() => void this.refresh(), this.#options.refreshIntervalMs ?? 300_000);
      this.#timer.unref();
    }
  }

  /** Checks the certificate (renewed by another replica, or due) and the CA bundles again now. */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        if (this.#selfManaged) {
          const certificates = await this.#ensureCertificates();
          if (certificates.serving.certPem !== this.#certificates?.serving.certPem) {
            this.server.setCertificate(certificates.serving);
            this.#deps.logger.info('webhook serving certificate renewed');
          }
          this.#certificates = certificates;
        }
        if (this.#options.injectCABundle ?? this.#selfManaged) await this.#inject();
      } catch (err) {
        this.#deps.logger.warn({ err: describeError(err) }, 'checking the webhook certificate and CA bundles failed; retrying later');
      }
    })().finally(() => { this.#refreshing = undefined; });
    return this.#refreshing;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#refreshing;
    await this.server.stop();
  }

  /** The CA and serving certificate from the Secret, created or renewed there when missing or due. */
  async #ensureCertificates(): Promise<WebhookCertificates> {
    const { client, logger, name } = this.#deps;
    const secretName = this.#options.secretName ?? `${name}-webhook-cert`;
    const namespace = this.#service.namespace;
    const names = this.dnsNames;
    for (let attempt = 0; ; attempt++) {
      let secret: V1Secret | undefined;
      try {
        secret = await client.get(V1Secret, { name: secretName, namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      const stored = secret && certificatesOf(secret);
      if (stored && (await webhookCertificatesUsable(stored, names))) return stored;
      // Keep a CA that is still good (the CA bundles stay valid); else start over.
      const keepCA = stored && (await webhookCertificatesUsable({ ...stored, serving: { certPem: stored.caPem, keyPem: stored.caKeyPem } }, []).catch(() => false));
      const fresh: WebhookCertificates = keepCA
        ? { ...stored, serving: await issueServingCertificate(stored.caPem, stored.caKeyPem, names) }
        : await createWebhookCertificates(name, names);
      const body: V1Secret = {
        apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
        metadata: { name: secretName, namespace, labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'webhook' }, ...(secret?.metadata?.resourceVersion ? { resourceVersion: secret.metadata.resourceVersion } : {}) },
        data: { 'tls.crt': b64(fresh.serving.certPem), 'tls.key': b64(fresh.serving.keyPem), [CA_CERT_KEY]: b64(fresh.caPem), [CA_KEY_KEY]: b64(fresh.caKeyPem) },
      };
      try {
        if (secret) await client.update(body);
        else await client.create(body);
        logger.info({ secret: `${namespace}/${secretName}`, newCA: !keepCA }, secret ? 'webhook certificate renewed' : 'webhook CA and certificate created');
        return fresh;
      } catch (err) {
        // Another replica wrote it first: use theirs.
        if ((isAlreadyExists(err) || isConflict(err)) && attempt < 3) continue;
        throw err;
      }
    }
  }

  /** Writes the CA bundle into the webhooks of the operator's configurations and the CRDs' conversion webhooks that call its Service. */
  async #inject(): Promise<void> {
    const caBundle = this.#options.tls ? undefined : this.#certificates?.caPem;
    if (!caBundle) return;
    const bundle = b64(caBundle);
    const { name } = this.#deps;
    const calls = (config: ClientConfig | undefined) =>
      config?.service?.name === this.#service.name && config.service.namespace === this.#service.namespace;
    const targets: Array<{ type: typeof V1ValidatingWebhookConfiguration | typeof V1MutatingWebhookConfiguration | typeof V1CustomResourceDefinition; name: string }> = [];
    if (this.#specs.some((s) => s.validating)) targets.push({ type: V1ValidatingWebhookConfiguration, name: this.#options.configurationNames?.validating ?? `${name}-validating` });
    if (this.#specs.some((s) => s.mutating)) targets.push({ type: V1MutatingWebhookConfiguration, name: this.#options.configurationNames?.mutating ?? `${name}-mutating` });
    for (const spec of this.#specs) if (spec.conversion) targets.push({ type: V1CustomResourceDefinition, name: `${spec.plural}.${spec.group}` });
    for (const target of targets) await this.#injectInto(target.type, target.name, bundle, calls);
  }

  async #injectInto(
    type: typeof V1ValidatingWebhookConfiguration | typeof V1MutatingWebhookConfiguration | typeof V1CustomResourceDefinition,
    name: string,
    bundle: string,
    calls: (config: ClientConfig | undefined) => boolean,
  ): Promise<void> {
    const { client, logger } = this.#deps;
    const kind = type.name.replace(/^V1/, '');
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await client.get(type as typeof V1CustomResourceDefinition, { name }) as V1CustomResourceDefinition | V1ValidatingWebhookConfiguration;
        const ops: JsonPatchOperation[] = [];
        const others = new Map<string, { namespace: string; name: string }>();
        const consider = (config: ClientConfig | undefined, path: string) => {
          if (calls(config)) {
            if (config?.caBundle !== bundle) ops.push({ op: 'add', path, value: bundle });
          } else if (config?.service) {
            const { namespace = '', name: serviceName = '' } = config.service;
            others.set(`${namespace}/${serviceName}`, { namespace, name: serviceName });
          }
        };
        if (current.kind === 'CustomResourceDefinition') {
          consider((current as V1CustomResourceDefinition).spec.conversion?.webhook?.clientConfig, '/spec/conversion/webhook/clientConfig/caBundle');
        } else {
          ((current as V1ValidatingWebhookConfiguration).webhooks ?? []).forEach((webhook, i) => consider(webhook.clientConfig, `/webhooks/${i}/clientConfig/caBundle`));
        }
        this.#sayMisdirected(kind, name, others);
        if (ops.length === 0) return;
        // The positions above are those of this resourceVersion: the test fails if it changed meanwhile.
        await client.patch(current, [{ op: 'test', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion }, ...ops], { type: 'json' });
        logger.info({ kind: current.kind, name }, 'CA bundle injected');
        return;
      } catch (err) {
        if (isNotFound(err)) {
          this.#sayMisdirected(kind, name, new Map());
          logger.warn({ kind, name }, 'cannot inject the webhook CA bundle: not found (apply the generated webhook configurations and CRDs)');
          return;
        }
        if (attempt >= 3) {
          logger.warn({ name, err: describeError(err) }, 'cannot inject the webhook CA bundle; retrying later');
          return;
        }
      }
    }
  }

  /**
   * Says that a configuration calls a Service other than the one this operator serves,
   * whose webhooks therefore will not trust this operator's certificate: out of the cluster
   * without `POD_NAMESPACE` the operator takes the kubeconfig's namespace or `default`, and
   * this shows it at start rather than as a failed webhook call later. Said again only when
   * the Services called change.
   */
  #sayMisdirected(kind: string, name: string, services: ReadonlyMap<string, { namespace: string; name: string }>): void {
    const key = `${kind}/${name}`;
    if (services.size === 0) {
      this.#misdirected.delete(key);
      return;
    }
    const called = [...services.keys()].sort().join(', ');
    if (this.#misdirected.get(key) === called) return;
    this.#misdirected.set(key, called);
    const serves = `${this.#service.namespace}/${this.#service.name}`;
    const [other] = services.values();
    let hint: string;
    if (services.size > 1 || this.#deps.kubeConfig.getCurrentContext() === IN_CLUSTER_CONTEXT) {
      // In a Pod another namespace's Service cannot select it: the configuration must change.
      hint = `point its webhooks at ${serves}`;
    } else if (other!.name === this.#service.name && this.#namespaceFrom !== 'webhooks.service') {
      hint = `${NAMESPACE_FROM[this.#namespaceFrom]}; set POD_NAMESPACE=${other!.namespace}`;
    } else {
      hint = `set webhooks.service to { namespace: '${other!.namespace}', name: '${other!.name}' }`;
    }
    this.#deps.logger.warn(
      { kind, name, calls: called, serves, namespaceFrom: this.#namespaceFrom },
      `cannot inject the webhook CA bundle into ${kind} ${name}: it calls ${called}, not ${serves} (${hint})`,
    );
  }

}

function certificatesOf(secret: V1Secret): WebhookCertificates | undefined {
  const data = secret.data ?? {};
  const [certPem, keyPem, caPem, caKeyPem] = ['tls.crt', 'tls.key', CA_CERT_KEY, CA_KEY_KEY].map((k) => unb64(data[k]));
  if (!certPem || !keyPem || !caPem || !caKeyPem) return undefined;
  return { caPem, caKeyPem, serving: { certPem, keyPem } };
}
