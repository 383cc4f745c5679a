// Generated CRDs against a real kube-apiserver (the shared local control plane): accepted
// as generated, and enforcing the class's constraints on every write.
import 'reflect-metadata';
import { request } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  ApiextensionsV1Api, ApiException, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions,
  type KubeConfig, type KubernetesObject, type V1ObjectMeta,
} from '@kubernetes/client-node';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { Resource } from '../../decorators/index.js';
import { validateResource } from '../../lib/validation/index.js';
import { crdWireForm, crdYAML, generateCRD } from '../../lib/generate/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { applyYAML, kubectl } from '../support/generate-kubectl.js';
import { Gizmo, gizmo, validGizmoSpec } from '../support/generate-gizmo.js';
import { rejectionOf, statusOf } from '../support/service-account.js';
import { eventually } from '../support/wait.js';
import { Widget, widgetCRD } from '../support/widget-operator.js';

// A cluster-scoped kind, installed from YAML.
class GaugeSpec {
  @IsInt() @Min(0) @Max(100) level!: number;
  @IsOptional() @IsString() @IsIn(['linear', 'log']) scale?: string;
}
@Resource({ group: 'generate.maestro.dev', version: 'v1', kind: 'Gauge', namespaced: false })
class Gauge {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @ValidateNested() spec!: GaugeSpec;
}

// A namespaced kind, applied with kubectl.
@Resource({ group: 'generate.maestro.dev', version: 'v1', kind: 'Dial', shortNames: ['dl'] })
class Dial {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @ValidateNested() spec!: GaugeSpec;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const schemaOf = (crd: Parameters<typeof crdWireForm>[0]) => (crdWireForm(crd) as { spec: { versions: Array<Record<string, unknown>> } }).spec.versions[0];

/** The message of a rejected request's Status body. */
function messageOf(err: unknown): string {
  if (!(err instanceof ApiException)) return String(err);
  try {
    return (JSON.parse(err.body as string) as { message?: string }).message ?? String(err.body);
  } catch {
    return String(err.body);
  }
}

/** `kubectl get` as the server renders it: the CRD's printer columns. */
async function table(kc: KubeConfig, path: string): Promise<{ columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> }> {
  const options: Parameters<typeof request>[1] = {};
  await kc.applyToHTTPSOptions(options);
  const url = new URL(path, kc.getCurrentCluster()!.server);
  return new Promise((resolve, reject) => {
    const req = request(url, { ...options, method: 'GET', headers: { ...options.headers, Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as Awaited<ReturnType<typeof table>>) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('generated CRDs on a real API server', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let objects: KubernetesObjectApi;
  let ns: string;

  before(async () => {
    plane = await sharedControlPlane();
    objects = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
    ns = await plane.createNamespace('gizmos');
  });

  it('is accepted and established as generated, structural, and stored as sent', async () => {
    const [installed] = await plane.installCRDs([generateCRD(Gizmo)]);
    const conditions = installed!.status?.conditions ?? [];
    expect(conditions.find((c) => c.type === 'Established')?.status).to.equal('True');
    expect(conditions.find((c) => c.type === 'NonStructuralSchema'), 'a NonStructuralSchema condition').to.equal(undefined);
    const sent = schemaOf(generateCRD(Gizmo))!;
    const stored = schemaOf(installed!)!;
    expect(stored.schema).to.deep.equal(sent.schema);
    expect(stored.additionalPrinterColumns).to.deep.equal(sent.additionalPrinterColumns);
  });

  it('accepts the generated Widget CRD as a replacement of the hand-written one (server-side dry run, nothing changes)', async () => {
    const [current] = await plane.installCRDs([widgetCRD()]);
    const api = plane.kubeConfig.makeApiClient(ApiextensionsV1Api);
    const generated = generateCRD(Widget);
    generated.metadata = { ...generated.metadata, resourceVersion: current!.metadata!.resourceVersion };
    const answer = await api.replaceCustomResourceDefinition({ name: 'widgets.it.maestro.dev', body: generated, dryRun: 'All' });
    expect(schemaOf(answer)!.schema).to.deep.equal(schemaOf(generateCRD(Widget))!.schema);
    // The shared, deliberately loose CRD other tests rely on is untouched.
    const after = await api.readCustomResourceDefinition({ name: 'widgets.it.maestro.dev' });
    expect(after.metadata?.resourceVersion).to.equal(current!.metadata!.resourceVersion);
  });

  it('accepts a valid object, pruning unknown fields and keeping free-form maps', async () => {
    const spec = { ...validGizmoSpec(), unknownField: 'dropped', owner: { team: 'platform', extra: 'dropped too' } };
    const created = (await objects.create(gizmo(ns, 'valid', spec))) as unknown as KubernetesObject & { spec: Record<string, unknown> };
    expect(created.spec).to.not.have.property('unknownField');
    expect(created.spec.owner).to.deep.equal({ team: 'platform' });
    expect(created.spec.labels).to.deep.equal({ anything: 'goes', nested: 'too' });
    expect(created.spec.ports).to.deep.equal([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(await validateResource(Gizmo, created)).to.deep.equal([]);
  });

  describe('rejects with 422 what breaks a constraint (as the operator\'s own validation does)', () => {
    const { replicas: _replicas, ...withoutReplicas } = validGizmoSpec();
    const cases: Array<[string, Record<string, unknown> | undefined, string]> = [
      ['replicas above @Max', { ...validGizmoSpec(), replicas: 6 }, 'spec.replicas'],
      ['replicas below @Min', { ...validGizmoSpec(), replicas: 0 }, 'spec.replicas'],
      ['a fractional replica count (@IsInt)', { ...validGizmoSpec(), replicas: 1.5 }, 'spec.replicas'],
      ['replicas as a string', { ...validGizmoSpec(), replicas: 'two' }, 'spec.replicas'],
      ['a missing required field', withoutReplicas, 'spec.replicas: Required value'],
      ['a missing spec', undefined, 'spec: Required value'],
      ['an image breaking @Matches', { ...validGizmoSpec(), image: 'Nginx Latest' }, 'spec.image'],
      ['an image longer than @MaxLength', { ...validGizmoSpec(), image: 'a'.repeat(101) }, 'spec.image'],
      ['a tier outside @IsEnum', { ...validGizmoSpec(), tier: 'platinum' }, 'spec.tier'],
      ['more tags than @ArrayMaxSize', { ...validGizmoSpec(), tags: ['a', 'b', 'c', 'd'] }, 'spec.tags'],
      ['duplicate tags (@ArrayUnique)', { ...validGizmoSpec(), tags: ['a', 'a'] }, 'spec.tags[1]'],
      ['an empty tag (@MinLength each)', { ...validGizmoSpec(), tags: [''] }, 'spec.tags[0]'],
      ['a tag breaking a case-insensitive @Matches each', { ...validGizmoSpec(), tags: ['ok', 'not ok'] }, 'spec.tags[1]'],
      ['fewer ports than @ArrayMinSize', { ...validGizmoSpec(), ports: [] }, 'spec.ports'],
      ['a nested port above @Max', { ...validGizmoSpec(), ports: [{ name: 'http', port: 70_000 }] }, 'spec.ports[0].port'],
      ['a nested protocol outside @IsIn', { ...validGizmoSpec(), ports: [{ name: 'http', port: 80, protocol: 'SCTP' }] }, 'spec.ports[0].protocol'],
      ['a nested object without its required field', { ...validGizmoSpec(), owner: {} }, 'spec.owner.team'],
      ['a nested field breaking the second of two @Matches', { ...validGizmoSpec(), owner: { team: 'team9' } }, 'spec.owner.team'],
      ['a ticket that is not a UUID', { ...validGizmoSpec(), owner: { team: 'x', ticket: 'nope' } }, 'spec.owner.ticket'],
      ['a ratio of 0 (@IsPositive)', { ...validGizmoSpec(), ratio: 0 }, 'spec.ratio'],
      ['a timestamp that is not date-time', { ...validGizmoSpec(), notAfter: 'tomorrow' }, 'spec.notAfter'],
      ['a boolean as a string', { ...validGizmoSpec(), paused: 'yes' }, 'spec.paused'],
      ['what a CEL rule from @Schema forbids', { ...validGizmoSpec(), replicas: 4, tier: 'silver' }, 'more than 3 replicas need the gold tier'],
    ];
    // Only the API server checks CEL rules; class-validator's @ValidateNested() alone does not require presence.
    const serverOnly = new Set(['what a CEL rule from @Schema forbids', 'a missing spec']);
    cases.forEach(([what, spec, field], i) => {
      it(`rejects ${what}`, async () => {
        const obj = gizmo(ns, `invalid-${i}`, spec);
        if (spec === undefined) delete (obj as { spec?: unknown }).spec;
        const err = await rejectionOf(objects.create(obj));
        expect(statusOf(err), messageOf(err)).to.equal(422);
        expect(messageOf(err)).to.contain(field);
        if (!serverOnly.has(what)) expect(await validateResource(Gizmo, obj), 'the operator rejects it too').to.not.be.empty;
      });
    });
  });

  it('takes status only through the status subresource, validating conditions, and prints the Ready columns', async () => {
    const custom = plane.kubeConfig.makeApiClient(CustomObjectsApi);
    const ref = { group: 'generate.maestro.dev', version: 'v1alpha1', namespace: ns, plural: 'gizmos', name: 'with-status' };
    await objects.create(gizmo(ns, 'with-status'));
    const condition = { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'all good', lastTransitionTime: '2025-01-01T00:00:00Z' };
    // Through the main resource, status is ignored.
    const ignored = (await custom.patchNamespacedCustomObject({ ...ref, body: { status: { conditions: [condition] } } }, mergePatch)) as { status?: unknown };
    expect(ignored.status).to.equal(undefined);
    const written = (await custom.patchNamespacedCustomObjectStatus({ ...ref, body: { status: { conditions: [condition], observedGeneration: 1, phase: 'kept' } } }, mergePatch)) as { status: Record<string, unknown> };
    expect(written.status).to.deep.equal({ conditions: [condition], observedGeneration: 1, phase: 'kept' });
    const bad = await rejectionOf(custom.patchNamespacedCustomObjectStatus({ ...ref, body: { status: { conditions: [{ ...condition, status: 'Maybe' }] } } }, mergePatch));
    expect(statusOf(bad), messageOf(bad)).to.equal(422);
    expect(messageOf(bad)).to.contain('status.conditions[0].status');

    const printed = await table(plane.kubeConfig, `/apis/generate.maestro.dev/v1alpha1/namespaces/${ns}/gizmos/with-status`);
    expect(printed.columnDefinitions.map((c) => c.name)).to.deep.equal(['Name', 'Ready', 'Reason', 'Age']);
    expect(printed.rows[0]!.cells.slice(0, 3)).to.deep.equal(['with-status', 'True', 'Reconciled']);
  });

  it('installs from the generated YAML file, like kubectl apply -f, for namespaced and cluster-scoped kinds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maestro-crds-'));
    try {
      const file = join(dir, 'crds.yaml');
      await writeFile(file, crdYAML([Gizmo, Gauge]));
      const installed = await plane.installCRDs([file]);
      expect(installed.map((c) => [c.metadata?.name, c.spec.scope])).to.deep.equal([['gizmos.generate.maestro.dev', 'Namespaced'], ['gauges.generate.maestro.dev', 'Cluster']]);
      expect(schemaOf(installed[1]!)!.schema).to.deep.equal(schemaOf(generateCRD(Gauge))!.schema);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const gauge = (level: number, name: string) => ({ apiVersion: 'generate.maestro.dev/v1', kind: 'Gauge', metadata: { name }, spec: { level, scale: 'log' } });
    const created = await objects.create(gauge(42, `gauge-${Date.now()}`));
    expect((created as { spec?: unknown }).spec).to.deep.equal({ level: 42, scale: 'log' });
    const err = await rejectionOf(objects.create(gauge(101, `gauge-too-high-${Date.now()}`)));
    expect(statusOf(err), messageOf(err)).to.equal(422);
    expect(messageOf(err)).to.contain('spec.level');
  });

  it('applies with kubectl apply --server-side --validate=strict, which knows every field name', async function () {
    if (!plane.assets.kubectl) this.skip();
    const out = await applyYAML(plane, crdYAML([Dial]));
    expect(out).to.contain('customresourcedefinition.apiextensions.k8s.io/dials.generate.maestro.dev serverside-applied');
    const established = await kubectl(plane, ['wait', '--for=condition=Established', '--timeout=30s', 'crd/dials.generate.maestro.dev']);
    expect(established.code, established.stderr).to.equal(0);
    const dial = (level: number) => `apiVersion: generate.maestro.dev/v1\nkind: Dial\nmetadata:\n  name: d${level}\n  namespace: ${ns}\nspec:\n  level: ${level}\n`;
    // Discovery of a new kind can lag behind Established for a moment.
    await eventually(async () => (await kubectl(plane, ['get', 'dl', '-n', ns])).code === 0, { message: 'kubectl to know the short name dl' });
    const accepted = await kubectl(plane, ['create', '-f', '-'], dial(7));
    expect(accepted.code, accepted.stderr).to.equal(0);
    const rejected = await kubectl(plane, ['create', '-f', '-'], dial(700));
    expect(rejected.code).to.not.equal(0);
    expect(rejected.stderr).to.contain('spec.level').and.contain('100');
    const listed = await kubectl(plane, ['get', 'dl', '-n', ns]);
    expect(listed.stdout.split('\n')[0]).to.match(/^NAME\s+READY\s+REASON\s+AGE$/);
  });
});
