// Issue 15's proof items against the real API server, with classes of a registry of their
// own (its own control plane: the webhook configurations must not reach other tests'
// objects): an immutable-field rule from a validate(old) method, defaults applied by the
// API server from the schema alone and by the mutating webhook alone, and objects written
// before a kind gained a v1 storage version served as v1.
import { expect } from 'chai';
import { ApiextensionsV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubernetesObject, type V1CustomResourceDefinition, type V1ObjectMeta } from '@kubernetes/client-node';
import { IsArray, IsDefined, IsIn, IsInt, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { decoratorsFor } from '../../decorators/index.js';
import { Registry } from '../../lib/declare/index.js';
import { crdWireForm, generateCRD, webhookSpecsOf } from '../../lib/generate/index.js';
import { WebhookServer } from '../../lib/server/index.js';
import { installWebhooks, startControlPlane, type ControlPlane, type InstalledWebhooks } from '../../lib/testing/index.js';
import { CONVERSION_DATA_ANNOTATION, WebhookHandlers } from '../../lib/webhook/index.js';
import { prepareControlPlaneAssets } from '../support/control-plane.js';
import { kubectl } from '../support/generate-kubectl.js';
import { eventually } from '../support/wait.js';

const registry = new Registry();
const { Resource, Default, Converts, Schema } = decoratorsFor(registry);

const DB_GROUP = 'db.example.com';
const WIDGET_GROUP = 'widgets.example.com';

class DatabaseSpec {
  @IsString() engine!: string;
  @IsInt() @Min(1) size!: number;
  /** A JSON default: the CRD schema's `default` (the API server applies it) and the mutating webhook's. */
  @IsOptional() @IsIn(['standard', 'premium']) @Default('standard') tier?: string;
  /** A function default: no schema can say it, only the mutating webhook applies it. */
  @IsOptional() @IsString() @Default((spec: Record<string, unknown>) => `${String(spec.engine)}-primary`) title?: string;
}

@Resource({ group: DB_GROUP, version: 'v1', kind: 'Database' })
class Database {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: DatabaseSpec;
  validate(old?: Database) {
    if (old && old.spec.engine !== this.spec.engine) return `spec.engine is immutable (was ${old.spec.engine})`;
    return undefined;
  }
}

class WidgetSpec {
  @IsArray() @IsString({ each: true }) @Schema({ items: { type: 'string' } }) owners!: string[];
  @IsInt() @Min(1) size!: number;
}

/** v1: the hub and storage version; several owners. */
@Resource({ group: WIDGET_GROUP, version: 'v1', kind: 'Widget' })
class Widget {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: WidgetSpec;
}

class WidgetV1alpha1Spec {
  @IsString() owner!: string;
  @IsInt() @Min(1) size!: number;
}

/** v1alpha1: the kind's first version, one owner. */
@Resource({ group: WIDGET_GROUP, version: 'v1alpha1', kind: 'Widget' })
@Converts(Widget, {
  toHub: (old: WidgetV1alpha1) => ({ spec: { owners: [old.spec.owner], size: old.spec.size } }),
  fromHub: (widget: Widget) => ({ spec: { owner: widget.spec.owners[0] ?? '', size: widget.spec.size } }),
})
class WidgetV1alpha1 {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: WidgetV1alpha1Spec;
}

type Obj = KubernetesObject & { metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec: Record<string, unknown> };

describe('webhooks: immutable fields, defaults each way, objects stored before the upgrade (real API server)', function () {
  this.timeout(240_000);
  let plane: ControlPlane;
  let installed: InstalledWebhooks | undefined;
  let server: WebhookServer | undefined;
  let namespace: string;
  let api: KubernetesObjectApi;
  let extensions: ApiextensionsV1Api;
  const specs = webhookSpecsOf([Database, Widget], registry);

  const db = (name: string, spec: Record<string, unknown>): Obj => ({ apiVersion: `${DB_GROUP}/v1`, kind: 'Database', metadata: { name, namespace }, spec });
  const widget = (version: 'v1' | 'v1alpha1', name: string, spec: Record<string, unknown>): Obj => ({ apiVersion: `${WIDGET_GROUP}/${version}`, kind: 'Widget', metadata: { name, namespace }, spec });
  const apply = (object: unknown) => kubectl(plane, ['apply', '-f', '-'], JSON.stringify(object));
  const widgetCRD = (webhook?: { url: string; caBundle: string }) => generateCRD(Widget, { registry, ...(webhook ? { webhook } : {}) });
  const storedVersions = async () => (await extensions.readCustomResourceDefinition({ name: `widgets.${WIDGET_GROUP}` })).status?.storedVersions ?? [];

  before(async () => {
    await prepareControlPlaneAssets();
    // Database's CRD as generated; Widget's as it was before v1: v1alpha1 alone, served and stored, no conversion.
    const twoVersions = widgetCRD();
    const alphaOnly: V1CustomResourceDefinition = {
      ...twoVersions,
      spec: {
        ...twoVersions.spec,
        versions: twoVersions.spec.versions.filter((v) => v.name === 'v1alpha1').map((v) => ({ ...v, served: true, storage: true, deprecated: undefined })),
        conversion: { strategy: 'None' },
      },
    };
    plane = await startControlPlane({ crds: [generateCRD(Database, { registry }), alphaOnly] });
    api = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
    extensions = plane.kubeConfig.makeApiClient(ApiextensionsV1Api);
    namespace = await plane.createNamespace('evolution');
  });
  after(async () => {
    await server?.stop();
    await installed?.uninstall().catch(() => undefined);
    await plane?.stop();
  });

  it('before any webhook: the API server applies the schema default alone, not the function default', async () => {
    const crd = crdWireForm(generateCRD(Database, { registry })) as { spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, { default?: unknown }> } } } } }> } };
    const properties = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties;
    expect(properties.tier?.default).to.equal('standard');
    expect(properties.title?.default).to.equal(undefined);

    const created = await apply(db('schema-defaulted', { engine: 'postgres', size: 1 }));
    expect(created.code, created.stderr).to.equal(0);
    const read = await api.read<Obj>(db('schema-defaulted', {}));
    expect(read.spec.tier).to.equal('standard');
    expect(read.spec).to.not.have.property('title');
  });

  it('before the upgrade: a v1alpha1 object is written while v1alpha1 is the only (stored) version', async () => {
    const created = await apply(widget('v1alpha1', 'old-widget', { owner: 'alice', size: 3 }));
    expect(created.code, created.stderr).to.equal(0);
    expect(await storedVersions()).to.deep.equal(['v1alpha1']);
    // No v1 yet.
    const asV1 = await kubectl(plane, ['get', `widgets.v1.${WIDGET_GROUP}`, 'old-widget', '-n', namespace, '-o', 'json']);
    expect(asV1.code).to.not.equal(0);
  });

  it('registers the webhooks and upgrades the Widget CRD to v1 (stored) with a conversion webhook', async () => {
    installed = await installWebhooks(plane.kubeConfig, { webhooks: specs, name: 'evolution' });
    server = new WebhookServer({ handler: new WebhookHandlers(specs), ...installed.serverOptions });
    await server.start();
    const [upgraded] = await plane.installCRDs([widgetCRD({ url: installed.url, caBundle: installed.caBundle })]);
    expect(upgraded!.spec.versions.map((v) => [v.name, v.storage])).to.deep.equal([['v1', true], ['v1alpha1', false]]);
    expect(upgraded!.spec.conversion?.strategy).to.equal('Webhook');
  });

  it('the mutating webhook alone applies a default no schema can hold', async () => {
    // A new name each attempt: the configuration takes a moment to be in effect.
    let attempt = 0;
    const read = await eventually(async () => {
      const name = `webhook-defaulted-${attempt++}`;
      const created = await apply(db(name, { engine: 'mysql', size: 2 }));
      if (created.code !== 0) throw new Error(created.stderr);
      const object = await api.read<Obj>(db(name, {}));
      return object.spec.title === undefined ? undefined : object;
    }, { message: 'the mutating webhook defaults spec.title', timeoutMs: 60_000 });
    expect(read.spec.title).to.equal('mysql-primary');
    expect(read.spec.tier).to.equal('standard');
    // A value given is kept.
    const given = await apply(db('titled', { engine: 'mysql', size: 2, title: 'mine' }));
    expect(given.code, given.stderr).to.equal(0);
    expect((await api.read<Obj>(db('titled', {}))).spec.title).to.equal('mine');
  });

  it('an immutable-field rule (validate(old)): create admitted, changing the field refused with the rule message, changing another admitted', async () => {
    let attempt = 0;
    const refused = await eventually(async () => {
      // A new object each attempt: were the update admitted (the configuration not yet in effect), the engine would already be changed.
      const name = `immutable-${attempt++}`;
      const created = await apply(db(name, { engine: 'postgres', size: 1 }));
      if (created.code !== 0) throw new Error(`create refused: ${created.stderr}`);
      const changed = await apply(db(name, { engine: 'mysql', size: 1 }));
      return changed.code !== 0 && changed.stderr.includes('denied the request') ? { name, changed } : undefined;
    }, { message: 'the validating webhook refuses changing spec.engine', timeoutMs: 60_000 });
    expect(refused.changed.stderr).to.include(`admission webhook "vdatabase.${DB_GROUP}" denied the request: spec.engine is immutable (was postgres)`);
    expect((await api.read<Obj>(db(refused.name, {}))).spec.engine).to.equal('postgres');

    const resized = await apply(db(refused.name, { engine: 'postgres', size: 5 }));
    expect(resized.code, resized.stderr).to.equal(0);
    const read = await api.read<Obj>(db(refused.name, {}));
    expect(read.spec).to.deep.include({ engine: 'postgres', size: 5 });
  });

  it('serves the object written before the upgrade as v1 (converted), storedVersions keeping v1alpha1', async () => {
    const asV1 = await eventually(async () => {
      const got = await kubectl(plane, ['get', `widgets.v1.${WIDGET_GROUP}`, 'old-widget', '-n', namespace, '-o', 'json']);
      return got.code === 0 ? JSON.parse(got.stdout) as Obj : undefined;
    }, { message: 'old-widget served as v1', timeoutMs: 60_000 });
    expect(asV1.apiVersion).to.equal(`${WIDGET_GROUP}/v1`);
    expect(asV1.spec).to.deep.equal({ owners: ['alice'], size: 3 });
    // Still v1alpha1 in etcd: the API server keeps listing it until a storage migration.
    const versions = await storedVersions();
    expect(versions).to.include('v1alpha1');
    expect(versions).to.include('v1');

    // Rewritten as v1 (stored as v1 now), with an owner v1alpha1 has no field for.
    await api.patch<Obj>(widget('v1', 'old-widget', { owners: ['alice', 'bob'] }), undefined, undefined, 'test', undefined, PatchStrategy.MergePatch);
    const asOld = await api.read<Obj>(widget('v1alpha1', 'old-widget', {}));
    expect(asOld.spec).to.deep.equal({ owner: 'alice', size: 3 });
    expect(asOld.metadata.annotations?.[CONVERSION_DATA_ANNOTATION]).to.be.a('string');
    const back = await api.read<Obj>(widget('v1', 'old-widget', {}));
    expect(back.spec).to.deep.equal({ owners: ['alice', 'bob'], size: 3 });

    // Every object rewritten: the migration's last step drops v1alpha1 from storedVersions, and the API server accepts it.
    await extensions.patchCustomResourceDefinitionStatus({ name: `widgets.${WIDGET_GROUP}`, body: { status: { storedVersions: ['v1'] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(await storedVersions()).to.deep.equal(['v1']);
    expect((await api.read<Obj>(widget('v1', 'old-widget', {}))).spec).to.deep.equal({ owners: ['alice', 'bob'], size: 3 });
  });
});
