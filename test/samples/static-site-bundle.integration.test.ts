// The static-site deploy bundle as written: kubectl's server-side dry run accepts it in a
// namespace that enforces the Pod Security "restricted" level, its pod template is admitted
// there (and weakened variants are not), and the image runs as the user the pod declares.
// The webhooks the CRD and webhooks.yaml call are served: the pod exposes the port the
// generated Service targets, the NetworkPolicy admits it, and the generated RBAC grants what
// the operator's own CA needs.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  CoreV1Api, dumpYaml, loadAllYaml, type KubernetesObject, type V1ClusterRole, type V1ClusterRoleBinding,
  type V1CustomResourceDefinition, type V1Deployment, type V1MutatingWebhookConfiguration, type V1NetworkPolicy, type V1Pod,
  type V1PolicyRule, type V1Role, type V1RoleBinding, type V1Service, type V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { metricsAuthClusterRole, metricsReaderClusterRole } from '../../lib/server/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { kubectl } from '../support/generate-kubectl.js';

const sampleFile = (name: string) => fileURLToPath(new URL(`../../../samples/static-site/${name}`, import.meta.url));
const BUNDLE = ['crd.yaml', 'rbac.yaml', 'webhooks.yaml', 'operator.yaml'];
const NAMESPACE = 'static-site-system';
const LABELS = { 'app.kubernetes.io/name': 'static-site-operator' };

async function documents(file: string): Promise<KubernetesObject[]> {
  return loadAllYaml(await readFile(sampleFile(`deploy/${file}`), 'utf8')).filter(Boolean) as KubernetesObject[];
}

function find<T extends KubernetesObject>(docs: KubernetesObject[], kind: string, name?: string): T {
  const doc = docs.find((d) => d.kind === kind && (name === undefined || d.metadata?.name === name));
  if (!doc) throw new Error(`no ${kind} ${name ?? ''} in the bundle`);
  return doc as T;
}

describe('samples/static-site: the deploy bundle under Pod Security "restricted"', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let deployment: V1Deployment;
  let operatorDocs: KubernetesObject[];

  before(async () => {
    plane = await sharedControlPlane();
    if (!plane.assets.kubectl) throw new Error('kubectl is not among the control plane binaries (scripts/control-plane-assets --print)');
    operatorDocs = await documents('operator.yaml');
    deployment = find<V1Deployment>(operatorDocs, 'Deployment');
  });

  /** `kubectl create --dry-run=server` of a Pod made from the Deployment's template, changed by `weaken`. */
  async function dryRunPod(weaken: (pod: V1Pod) => void = () => undefined) {
    const template = structuredClone(deployment.spec!.template);
    const pod: V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'static-site-operator-psa', namespace: NAMESPACE, labels: template.metadata?.labels }, spec: template.spec };
    weaken(pod);
    return kubectl(plane, ['create', '--dry-run=server', '-f', '-'], dumpYaml(pod));
  }

  it('builds an image that runs as the numeric non-root user the pod declares, from one pinnable base image', async () => {
    const dockerfile = await readFile(sampleFile('Dockerfile'), 'utf8');
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)\s*$/gm)].map((m) => m[1]);
    expect(users).to.deep.equal(['1000:1000']);
    // Node keeps the compile cache per user: the bundle makes it for the user the image runs as.
    expect(/\bbundle\b.*--cache-uid (\d+)/.exec(dockerfile)?.[1], 'bundle --cache-uid').to.equal('1000');
    const pod = deployment.spec!.template.spec!.securityContext!;
    expect([pod.runAsNonRoot, pod.runAsUser, pod.runAsGroup]).to.deep.equal([true, 1000, 1000]);
    // Every stage comes from the same argument: one place to pin the digest.
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms).to.deep.equal(['${NODE_IMAGE}', '${NODE_IMAGE}']);
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(base, 'a digest, if given, is a full sha256').to.match(/^node:[\w.-]+(@sha256:[a-f0-9]{64})?$/);
  });

  it('is accepted by kubectl apply --dry-run=server, with no PodSecurity warnings, in the namespace enforcing "restricted"', async () => {
    // The namespace must exist for a dry run of what goes into it: apply it (it is part of the bundle).
    const namespace = dumpYaml(find(operatorDocs, 'Namespace'));
    const created = await kubectl(plane, ['apply', '--server-side', '--field-manager=maestro-test', '-f', '-'], namespace);
    expect(created.code, created.stderr).to.equal(0);
    const labels = (await plane.kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: NAMESPACE })).metadata?.labels ?? {};
    expect(labels['pod-security.kubernetes.io/enforce']).to.equal('restricted');
    for (const file of BUNDLE) {
      const result = await kubectl(plane, ['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager=maestro-test', '-f', sampleFile(`deploy/${file}`)]);
      expect(result.code, `${file}: ${result.stderr}`).to.equal(0);
      expect(result.stdout, file).to.contain('(server dry run)');
      expect(result.stderr, `${file}: warnings`).not.to.contain('PodSecurity');
    }
    // The check above can fail: the same dry run of a weakened Deployment draws the warning.
    const weakened = (await readFile(sampleFile('deploy/operator.yaml'), 'utf8')).replace('runAsNonRoot: true', 'runAsNonRoot: false');
    const warned = await kubectl(plane, ['apply', '--server-side', '--dry-run=server', '--field-manager=maestro-test', '-f', '-'], weakened);
    expect(warned.stderr).to.contain('would violate PodSecurity "restricted:latest"');
  });

  it('has a pod template the restricted level admits, while weakened variants of it are rejected', async () => {
    const admitted = await dryRunPod();
    expect(admitted.code, admitted.stderr).to.equal(0);
    const weakenings: Record<string, (pod: V1Pod) => void> = {
      'runs as root': (pod) => { pod.spec!.securityContext = { ...pod.spec!.securityContext, runAsNonRoot: false, runAsUser: 0 }; },
      'keeps capabilities': (pod) => { pod.spec!.containers[0]!.securityContext!.capabilities = {}; },
      'allows privilege escalation': (pod) => { pod.spec!.containers[0]!.securityContext!.allowPrivilegeEscalation = true; },
      'has no seccomp profile': (pod) => { delete pod.spec!.securityContext!.seccompProfile; },
    };
    for (const [what, weaken] of Object.entries(weakenings)) {
      const rejected = await dryRunPod(weaken);
      expect(rejected.code, what).not.to.equal(0);
      expect(rejected.stderr, what).to.contain('violates PodSecurity "restricted:latest"');
    }
  });

  it('hardens what Pod Security does not check: read-only root with a /tmp volume, resource requests and limits', () => {
    const spec = deployment.spec!.template.spec!;
    const container = spec.containers[0]!;
    expect(container.securityContext?.readOnlyRootFilesystem).to.equal(true);
    const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, 'an emptyDir at /tmp').to.not.equal(undefined);
    expect(container.resources?.requests).to.have.keys('cpu', 'memory');
    expect(container.resources?.limits).to.have.keys('cpu', 'memory');
    // Probes on their own plain port; metrics on the HTTPS port.
    expect(container.livenessProbe?.httpGet?.port).to.equal('probes');
    expect(container.readinessProbe?.httpGet?.port).to.equal('probes');
    expect(container.ports?.map((p) => [p.name, p.containerPort])).to.deep.equal([['metrics', 8443], ['webhook', 9443], ['probes', 8081]]);
  });

  it('admits ingress to the metrics port (from metrics namespaces) and the webhook port (from anywhere) only', () => {
    const policy = find<V1NetworkPolicy>(operatorDocs, 'NetworkPolicy');
    expect(policy.spec?.podSelector?.matchLabels).to.deep.equal(deployment.spec?.selector.matchLabels);
    expect(policy.spec?.policyTypes).to.deep.equal(['Ingress']);
    const rules = (policy.spec?.ingress ?? []).map((rule) => [rule.ports?.map((p) => [p.port, p.protocol]), rule._from ?? 'anywhere']);
    expect(rules).to.deep.equal([
      [[['metrics', 'TCP']], [{ namespaceSelector: { matchLabels: { metrics: 'enabled' } } }]],
      // The API server's source address is not predictable: the webhook port is open to all.
      [[['webhook', 'TCP']], 'anywhere'],
    ]);
    expect(policy.spec?.ingress?.every((rule) => (rule.ports ?? []).length > 0), 'no rule without ports (which would admit every port)').to.equal(true);
  });

  it('serves the webhooks that the CRD and webhooks.yaml call: their Service targets the pod\'s webhook port', async () => {
    const webhookDocs = await documents('webhooks.yaml');
    const service = find<V1Service>(webhookDocs, 'Service', 'static-site-operator-webhook');
    expect(service.metadata?.namespace).to.equal(NAMESPACE);
    expect(service.spec?.selector).to.deep.equal(deployment.spec!.template.metadata!.labels);
    const port = deployment.spec!.template.spec!.containers[0]!.ports!.find((p) => p.name === 'webhook')!;
    expect(service.spec?.ports?.map((p) => [p.port, p.targetPort])).to.deep.equal([[443, port.containerPort]]);
    const calls = (config: { service?: { name?: string; namespace?: string; port?: number } } | undefined) =>
      [config?.service?.namespace, config?.service?.name, config?.service?.port ?? 443];
    const target = [NAMESPACE, service.metadata!.name, 443];
    const crd = find<V1CustomResourceDefinition>(await documents('crd.yaml'), 'CustomResourceDefinition', 'staticsites.sites.maestro.dev');
    expect(crd.spec.conversion?.strategy).to.equal('Webhook');
    expect(calls(crd.spec.conversion?.webhook?.clientConfig)).to.deep.equal(target);
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      const configuration = find<V1ValidatingWebhookConfiguration | V1MutatingWebhookConfiguration>(webhookDocs, kind);
      expect(configuration.webhooks?.map((w) => calls(w.clientConfig)), kind).to.deep.equal([target]);
    }
    // The pod tells the operator its namespace, where its webhook Service and Secret live.
    const env = deployment.spec!.template.spec!.containers[0]!.env ?? [];
    expect(env.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).to.equal('metadata.namespace');
    // ...and main.ts turns the webhooks on (the operator's own CA: no certificate is mounted).
    expect(await readFile(sampleFile('main.ts'), 'utf8')).to.match(/^\s*webhooks: \{\},/m);
  });

  it('grants, in the generated webhooks.yaml, what the operator\'s own CA needs, by name, to the pod\'s service account', async () => {
    const docs = await documents('webhooks.yaml');
    const account = deployment.spec!.template.spec!.serviceAccountName;
    const granted = (rules: V1PolicyRule[] | undefined) => (rules ?? []).flatMap((r) =>
      (r.resources ?? []).flatMap((resource) => (r.verbs ?? []).map((verb) => `${r.apiGroups?.[0] ?? ''}/${resource}/${r.resourceNames?.join(',') ?? '*'}:${verb}`))).sort();
    const bound = (kind: 'RoleBinding' | 'ClusterRoleBinding', roleKind: 'Role' | 'ClusterRole') => {
      const bindings = docs.filter((d) => d.kind === kind) as Array<V1RoleBinding | V1ClusterRoleBinding>;
      expect(bindings.every((b) => b.subjects?.every((s) => s.kind === 'ServiceAccount' && s.namespace === NAMESPACE && s.name === account)), kind).to.equal(true);
      return bindings.flatMap((b) => granted(find<V1Role | V1ClusterRole>(docs, roleKind, b.roleRef.name).rules)).sort();
    };
    // The Secret the first replica creates, the others read, and a renewal updates.
    const role = find<V1Role>(docs, 'Role', 'static-site-operator-webhook-cert');
    expect(role.metadata?.namespace).to.equal(NAMESPACE);
    expect(bound('RoleBinding', 'Role')).to.deep.equal([
      '/secrets/*:create', '/secrets/static-site-operator-webhook-cert:get', '/secrets/static-site-operator-webhook-cert:update',
    ]);
    // The CA bundle is patched into the two configurations and the CRD, no others.
    expect(bound('ClusterRoleBinding', 'ClusterRole')).to.deep.equal([
      'admissionregistration.k8s.io/mutatingwebhookconfigurations/static-site-operator-mutating:get',
      'admissionregistration.k8s.io/mutatingwebhookconfigurations/static-site-operator-mutating:patch',
      'admissionregistration.k8s.io/validatingwebhookconfigurations/static-site-operator-validating:get',
      'admissionregistration.k8s.io/validatingwebhookconfigurations/static-site-operator-validating:patch',
      'apiextensions.k8s.io/customresourcedefinitions/staticsites.sites.maestro.dev:get',
      'apiextensions.k8s.io/customresourcedefinitions/staticsites.sites.maestro.dev:patch',
    ]);
    expect(find(docs, 'ValidatingWebhookConfiguration').metadata?.name).to.equal('static-site-operator-validating');
    expect(find(docs, 'MutatingWebhookConfiguration').metadata?.name).to.equal('static-site-operator-mutating');
  });

  it('grants, in the generated rbac.yaml, the metrics RBAC that lib/server defines', async () => {
    const docs = await documents('rbac.yaml');
    const plain = (o: unknown) => JSON.parse(JSON.stringify(o)) as unknown;
    expect(plain(find<V1ClusterRole>(docs, 'ClusterRole', 'static-site-operator-metrics-auth'))).to.deep.equal(plain(metricsAuthClusterRole('static-site-operator', LABELS)));
    expect(plain(find<V1ClusterRole>(docs, 'ClusterRole', 'static-site-operator-metrics-reader'))).to.deep.equal(plain(metricsReaderClusterRole('static-site-operator', LABELS)));
    const binding = find<V1ClusterRoleBinding>(docs, 'ClusterRoleBinding', 'static-site-operator-metrics-auth');
    expect(binding.roleRef.name).to.equal('static-site-operator-metrics-auth');
    expect(binding.subjects?.map((s) => [s.kind, s.namespace, s.name])).to.deep.equal([['ServiceAccount', NAMESPACE, deployment.spec!.template.spec!.serviceAccountName]]);
  });
});
