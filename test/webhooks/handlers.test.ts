// The pure parts of the webhooks: admission and conversion handlers (a review in, a review
// out), defaults as JSON patches, the decorators' errors, and the generated configurations.
import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { IsInt, IsString, Min } from 'class-validator';
import { decoratorsFor } from '../../decorators/index.js';
import { WebhookDecoratorError } from '../../decorators/webhooks.js';
import { buildSpecs, collectWebhookSpecs, Registry } from '../../lib/declare/index.js';
import { crdWireForm, generateCRD, generateWebhookConfigurations } from '../../lib/generate/index.js';
import { describeViolations, validateResource } from '../../lib/validation/index.js';
import {
  CONVERSION_DATA_ANNOTATION, Converter, WebhookHandlers, WebhookRequestError, applyDefaults,
  type AdmissionReview, type ConversionReview,
} from '../../lib/webhook/index.js';
import { staticSiteComponents } from '../../samples/static-site/reconcilers.js';
import { StaticSite } from '../../samples/static-site/site.js';

const GROUP = 'sites.maestro.dev';
const VALIDATE = '/validate-sites-maestro-dev-staticsite';
const MUTATE = '/mutate-sites-maestro-dev-staticsite';

const site = (version: string, spec: Record<string, unknown>, annotations?: Record<string, string>): KubernetesObject & { spec: Record<string, unknown> } => ({
  apiVersion: `${GROUP}/${version}`, kind: 'StaticSite', metadata: { name: 's', namespace: 'n', ...(annotations ? { annotations } : {}) }, spec,
});

function admission(operation: 'CREATE' | 'UPDATE', object: KubernetesObject, oldObject?: KubernetesObject): AdmissionReview {
  const version = object.apiVersion!.split('/')[1]!;
  return {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid: 'u1', kind: { group: GROUP, version, kind: 'StaticSite' }, resource: { group: GROUP, version, resource: 'staticsites' },
      operation, object, ...(oldObject ? { oldObject } : {}),
    },
  };
}

describe('webhooks: handlers from the classes (static-site sample)', () => {
  const specs = buildSpecs({ components: staticSiteComponents }).webhooks;
  const handlers = new WebhookHandlers(specs);
  const answer = async (path: string, review: unknown) => (await handlers.handle(path, review) as AdmissionReview).response!;

  it('derives one kind with two versions: v1 the hub, v1alpha1 converting to it', () => {
    expect(specs).to.have.length(1);
    const spec = specs[0]!;
    expect(spec.versions.map((v) => [v.name, v.hub])).to.deep.equal([['v1', true], ['v1alpha1', false]]);
    expect([spec.validating, spec.mutating, spec.conversion]).to.deep.equal([true, true, true]);
    expect(spec.hub.defaults.map((d) => d.path.join('.'))).to.deep.equal(['spec.replicas']);
    expect(spec.hub.deprecatedFields.map((d) => d.path.join('.'))).to.deep.equal(['spec.content']);
  });

  it('refuses with exactly the InvalidSpec message of the reconcile-time check', async () => {
    const object = site('v1', { image: 'nginx', replicas: 1, pages: { 'index.html': 'x' } });
    const response = await answer(VALIDATE, admission('CREATE', object));
    expect(response.allowed).to.equal(false);
    expect(response.uid).to.equal('u1');
    expect(response.status?.code).to.equal(422);
    expect(response.status?.message).to.equal(describeViolations(await validateResource(StaticSite, object)));
    expect(response.status?.message).to.equal('spec.image (isPinnedImage): image must pin a tag other than latest, or a digest');
  });

  it('admits a valid object, with a warning for a deprecated field', async () => {
    expect((await answer(VALIDATE, admission('CREATE', site('v1', { image: 'nginx:1.27', replicas: 1, pages: { 'index.html': 'x' } })))).allowed).to.equal(true);
    const legacy = await answer(VALIDATE, admission('CREATE', site('v1', { image: 'nginx:1.27', replicas: 1, content: 'x' })));
    expect(legacy.allowed).to.equal(true);
    expect(legacy.warnings).to.deep.equal(["spec.content is deprecated: use spec.pages: { 'index.html': ... }"]);
  });

  it('checks a v1alpha1 object against the hub class too (after conversion)', async () => {
    const response = await answer(VALIDATE, admission('CREATE', site('v1alpha1', { image: 'nginx:1.27', replicas: 11, content: 'x' })));
    expect(response.allowed).to.equal(false);
    expect(response.status?.message).to.match(/^spec\.replicas \(max\)/);
  });

  it('ratchets on UPDATE: a violation the old object had is a warning, a new one refuses', async () => {
    const old = site('v1', { image: 'nginx', replicas: 1, pages: { 'index.html': 'x' } });
    const same = await answer(VALIDATE, admission('UPDATE', site('v1', { image: 'nginx', replicas: 2, pages: { 'index.html': 'x' } }), old));
    expect(same.allowed).to.equal(true);
    expect(same.warnings?.[0]).to.match(/isPinnedImage.*already so before this update/);
    const worse = await answer(VALIDATE, admission('UPDATE', site('v1', { image: 'nginx', replicas: 0, pages: { 'index.html': 'x' } }), old));
    expect(worse.allowed).to.equal(false);
    expect(worse.status?.message).to.match(/^spec\.replicas \(min\)/);
  });

  it('defaults missing fields with a JSON patch, and leaves present ones', async () => {
    const response = await answer(MUTATE, admission('CREATE', site('v1', { image: 'nginx:1.27', pages: {} })));
    expect(response.allowed).to.equal(true);
    expect(response.patchType).to.equal('JSONPatch');
    expect(JSON.parse(Buffer.from(response.patch!, 'base64').toString('utf8'))).to.deep.equal([{ op: 'add', path: '/spec/replicas', value: 1 }]);
    const untouched = await answer(MUTATE, admission('CREATE', site('v1', { image: 'nginx:1.27', replicas: 3, pages: {} })));
    expect(untouched.patch).to.equal(undefined);
  });

  it('answers malformed reviews with a 400 and unknown paths with a 404', async () => {
    const bad = await handlers.handle(VALIDATE, { kind: 'Pod' }).catch((err: unknown) => err);
    expect(bad).to.be.instanceOf(WebhookRequestError);
    expect((bad as WebhookRequestError).status).to.equal(400);
    const unknown = await handlers.handle('/validate-nothing', {}).catch((err: unknown) => err);
    expect((unknown as WebhookRequestError).status).to.equal(404);
  });

  it('converts through the hub, carrying in an annotation what v1alpha1 cannot hold', () => {
    const converter = new Converter(specs[0]!);
    const v1 = site('v1', { image: 'nginx:1.27', replicas: 2, pages: { 'index.html': 'home', 'about.html': 'about' } });
    const old = converter.convert(v1, `${GROUP}/v1alpha1`) as ReturnType<typeof site>;
    expect(old.spec).to.deep.equal({ image: 'nginx:1.27', replicas: 2, content: 'home' });
    expect(old.metadata?.annotations?.[CONVERSION_DATA_ANNOTATION]).to.be.a('string');
    // Edited through v1alpha1: the edit wins, the page it cannot see comes back.
    const edited = { ...old, spec: { ...old.spec, content: 'new home' } };
    const back = converter.convert(edited, `${GROUP}/v1`) as ReturnType<typeof site>;
    expect(back.spec).to.deep.equal({ image: 'nginx:1.27', replicas: 2, pages: { 'index.html': 'new home', 'about.html': 'about' } });
    expect(back.metadata?.annotations).to.equal(undefined);
    // What v1alpha1 can hold needs no annotation.
    const simple = converter.convert(site('v1', { image: 'nginx:1.27', replicas: 1, pages: { 'index.html': 'x' } }), `${GROUP}/v1alpha1`);
    expect(simple.metadata?.annotations).to.equal(undefined);
  });

  it('answers a ConversionReview, and a Failure for a version it does not serve', () => {
    const review = (objects: KubernetesObject[], desiredAPIVersion: string): ConversionReview => ({
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', request: { uid: 'c1', desiredAPIVersion, objects },
    });
    const ok = handlers.convert(review([site('v1alpha1', { image: 'nginx:1.27', replicas: 1, content: 'x' })], `${GROUP}/v1`));
    expect(ok.response?.result.status).to.equal('Success');
    expect(ok.response?.convertedObjects[0]).to.deep.include({ apiVersion: `${GROUP}/v1`, spec: { image: 'nginx:1.27', replicas: 1, pages: { 'index.html': 'x' } } });
    const failed = handlers.convert(review([site('v2', {})], `${GROUP}/v1`));
    expect(failed.response?.result.status).to.equal('Failure');
    expect(failed.response?.result.message).to.contain('not a version');
  });

  it('applies defaults inside arrays and objects that exist, shallow first', () => {
    const object = { apiVersion: 'x/v1', kind: 'X', spec: { ports: [{ port: 80 }, { port: 81, protocol: 'UDP' }] } } as KubernetesObject;
    const patch = applyDefaults(object, [{ path: ['spec', 'ports', '*', 'protocol'], value: 'TCP' }, { path: ['spec', 'missing', 'x'], value: 1 }]);
    expect(patch).to.deep.equal([{ op: 'add', path: '/spec/ports/0/protocol', value: 'TCP' }]);
  });

  it('generates webhook configurations for every served version, sideEffects None, failurePolicy Fail by default', () => {
    const [validating, mutating] = generateWebhookConfigurations(specs, { name: 'op', client: { url: 'https://127.0.0.1:9443', caBundle: 'CA' } });
    expect(validating?.kind).to.equal('ValidatingWebhookConfiguration');
    expect(mutating?.kind).to.equal('MutatingWebhookConfiguration');
    const webhook = validating!.webhooks![0]!;
    expect(webhook).to.deep.include({ sideEffects: 'None', failurePolicy: 'Fail', admissionReviewVersions: ['v1'], timeoutSeconds: 10 });
    expect(webhook.rules?.[0]).to.deep.include({ apiGroups: [GROUP], apiVersions: ['v1', 'v1alpha1'], resources: ['staticsites'], operations: ['CREATE', 'UPDATE'] });
    expect(webhook.clientConfig.url).to.equal(`https://127.0.0.1:9443${VALIDATE}`);
    expect(Buffer.from(webhook.clientConfig.caBundle!, 'base64').toString()).to.equal('CA');
    const crd = crdWireForm(generateCRD(StaticSite, { webhook: { service: { name: 'svc', namespace: 'ns' } } })) as { spec: { conversion: unknown } };
    expect(crd.spec.conversion).to.deep.equal({
      strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { name: 'svc', namespace: 'ns', path: '/convert', port: 443 } } },
    });
  });
});

describe('webhooks: declarations in a registry of their own', () => {
  it('runs a validate(old) method: an immutable field refuses the update and allows the create', async () => {
    const registry = new Registry();
    const { Resource } = decoratorsFor(registry);
    class DatabaseSpec { @IsString() engine!: string; @IsInt() @Min(1) size!: number; }
    @Resource({ group: 'db.example.com', version: 'v1', kind: 'Database' })
    class Database {
      apiVersion?: string; kind?: string; metadata?: object;
      spec!: DatabaseSpec;
      validate(old?: Database) {
        if (old && old.spec.engine !== this.spec.engine) return `spec.engine is immutable (was ${old.spec.engine})`;
        return undefined;
      }
    }
    const { webhooks, problems } = collectWebhookSpecs(registry, [registry.resources.of(Database)]);
    expect(problems).to.deep.equal([]);
    const handlers = new WebhookHandlers(webhooks);
    const db = (engine: string) => ({ apiVersion: 'db.example.com/v1', kind: 'Database', metadata: { name: 'd' }, spec: { engine, size: 1 } });
    const review = (operation: 'CREATE' | 'UPDATE', object: KubernetesObject, oldObject?: KubernetesObject) => ({
      apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
      request: { uid: 'u', kind: { group: 'db.example.com', version: 'v1', kind: 'Database' }, resource: { group: 'db.example.com', version: 'v1', resource: 'databases' }, operation, object, oldObject },
    });
    const created = (await handlers.handle('/validate-db-example-com-database', review('CREATE', db('postgres'))) as AdmissionReview).response!;
    expect(created.allowed).to.equal(true);
    const updated = (await handlers.handle('/validate-db-example-com-database', review('UPDATE', db('mysql'), db('postgres'))) as AdmissionReview).response!;
    expect(updated.allowed).to.equal(false);
    expect(updated.status?.message).to.equal('spec.engine is immutable (was postgres)');
  });

  it('reports versions that do not fit together, and decorator misuse, as errors', () => {
    const registry = new Registry();
    const { Resource, Converts, Default } = decoratorsFor(registry);
    @Resource({ group: 'g.example.com', version: 'v1', kind: 'Thing' }) class ThingV1 { apiVersion?: string; metadata?: object; spec?: object; }
    @Resource({ group: 'g.example.com', version: 'v2', kind: 'Thing' }) class ThingV2 { apiVersion?: string; metadata?: object; spec?: object; }
    const { problems } = collectWebhookSpecs(registry, [registry.resources.of(ThingV1)]);
    expect(problems.join('\n')).to.contain('do not name a hub');
    void ThingV2;
    expect(() => Converts(ThingV1, { toHub: undefined } as never)(class Other {})).to.throw(WebhookDecoratorError, 'toHub(spoke) and fromHub(hub)');
    expect(() => Default(undefined as never)({}, 'x')).to.throw(WebhookDecoratorError, 'needs a JSON value');
  });
});
