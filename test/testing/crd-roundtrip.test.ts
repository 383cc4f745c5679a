// installCRDs keeps every field, whichever form the CRD comes in: read back from the API
// server, the CRD is what was written, and the schema's keywords work (defaults, CEL rules,
// pruning, int-or-string, list types, embedded resources, selectable fields, scale).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadYaml, type KubernetesObject, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { expect } from 'chai';
import { CRDInstallError, type ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { keywordsCRD, keywordsCRDYaml, keywordsGroup } from '../support/crd-keywords.js';
import { dig, raw } from '../support/raw.js';
import { rejectionOf } from './helpers.js';

const crdPath = (plural: string): string => `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.${keywordsGroup}`;

/** The parts of a CRD a user writes (the server adds status, metadata and defaults such as conversion). */
function written(crd: unknown): unknown {
  return {
    labels: dig(crd, 'metadata', 'labels'),
    annotations: dig(crd, 'metadata', 'annotations'),
    group: dig(crd, 'spec', 'group'),
    names: dig(crd, 'spec', 'names'),
    scope: dig(crd, 'spec', 'scope'),
    versions: dig(crd, 'spec', 'versions'),
  };
}

describe('testing: installCRDs keeps every field of a CRD, in every form', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let dir: string;
  before(async () => {
    plane = await sharedControlPlane();
    dir = await mkdtemp(join(tmpdir(), 'maestro-crd-roundtrip-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const forms: Array<[string, string, (plural: string) => Promise<string | KubernetesObject>]> = [
    ['a wire-form object (as parsed from YAML)', 'wires', async (p) => keywordsCRD(p)],
    ['a client-node model (as loadYaml or a read gives it)', 'models', async (p) => loadYaml<V1CustomResourceDefinition>(keywordsCRDYaml(p))],
    ['a YAML string', 'yamls', async (p) => keywordsCRDYaml(p)],
    ['a JSON string', 'jsons', async (p) => JSON.stringify(keywordsCRD(p))],
    ['a file path', 'files', async (p) => {
      const file = join(dir, `${p}.yaml`);
      await writeFile(file, `---\n${keywordsCRDYaml(p)}---\n`);
      return file;
    }],
  ];
  for (const [form, plural, source] of forms) {
    it(`from ${form}: the server has every keyword as written`, async () => {
      const [installed] = await plane.installCRDs([await source(plural)]);
      expect(installed!.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')).to.equal(true);
      const stored = await raw(plane.kubeConfig, 'GET', crdPath(plural));
      expect(stored.status).to.equal(200);
      expect(written(stored.body)).to.deep.equal(written(keywordsCRD(plural)));
      // Spot checks of the fields client-node renames, so a failure names them.
      const schema = dig(stored.body, 'spec', 'versions', 0, 'schema', 'openAPIV3Schema');
      expect(dig(schema, 'x-kubernetes-validations', 0, 'message')).to.equal('only dark objects may be black');
      expect(dig(schema, 'properties', 'status', 'x-kubernetes-preserve-unknown-fields')).to.equal(true);
      expect(dig(schema, 'properties', 'spec', 'properties', 'port', 'x-kubernetes-int-or-string')).to.equal(true);
      expect(dig(schema, 'properties', 'spec', 'properties', 'ports', 'x-kubernetes-list-map-keys')).to.deep.equal(['name', 'protocol']);
      expect(dig(schema, 'properties', 'spec', 'properties', 'color', 'enum')).to.deep.equal(['red', 'green', 'blue', 'black']);
      expect(dig(schema, 'properties', 'spec', 'properties', 'replicas', 'default')).to.equal(1);
    });
  }

  it('a CRD written back after a read keeps every field (update through installCRDs)', async () => {
    const [first] = await plane.installCRDs([keywordsCRD('rereads')]);
    const [again] = await plane.installCRDs([first!]);
    expect(Number(again!.metadata?.resourceVersion)).to.be.at.least(Number(first!.metadata?.resourceVersion));
    expect(written((await raw(plane.kubeConfig, 'GET', crdPath('rereads'))).body)).to.deep.equal(written(keywordsCRD('rereads')));
  });

  it('reports a keyword the API server refuses ($ref) as a CRDInstallError naming it: it reached the server', async () => {
    // A schema without CEL rules: kube-apiserver v1.36.3 panics (HTTP/2 stream reset) on a
    // $ref next to x-kubernetes-validations instead of answering 422.
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `refs.${keywordsGroup}` },
      spec: {
        group: keywordsGroup, scope: 'Namespaced', names: { plural: 'refs', kind: 'Ref' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { name: { $ref: '#/definitions/name' } } } } } } }],
      },
    };
    const err = await rejectionOf(plane.installCRDs([crd]));
    expect(err).to.be.instanceOf(CRDInstallError);
    expect((err as Error).message).to.contain('spec.validation.openAPIV3Schema.properties[spec].properties[name].$ref: Forbidden: $ref is not supported');
  });

  describe('the keywords at work, on objects of the installed CRD', () => {
    let ns: string;
    const base = (name: string, spec: Record<string, unknown>): Record<string, unknown> =>
      ({ apiVersion: `${keywordsGroup}/v1`, kind: 'Wire', metadata: { name }, spec });
    const path = (name?: string): string => `/apis/${keywordsGroup}/v1/namespaces/${ns}/wires${name ? `/${name}` : ''}`;
    const create = (name: string, spec: Record<string, unknown>) => raw(plane.kubeConfig, 'POST', path(), base(name, spec));
    const rejected = async (name: string, spec: Record<string, unknown>): Promise<string> => {
      const res = await create(name, spec);
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      return String(res.body['message']);
    };

    before(async () => {
      await plane.installCRDs([keywordsCRD('wires')]);
      ns = await testNamespace('keywords');
    });

    it('applies defaults (also to list-map keys and int-or-string), prunes unknown fields, keeps preserved and nullable ones', async () => {
      const res = await create('defaults', {
        color: 'red', bogus: 'pruned', note: null,
        freeform: { any: { thing: [1, 'two'] } },
        ports: [{ name: 'http' }],
        steps: [{ name: 's', image: 'x' }],
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      const spec = dig(res.body, 'spec');
      expect(dig(spec, 'replicas')).to.equal(1);
      expect(dig(spec, 'maxReplicas')).to.equal(5);
      expect(dig(spec, 'port')).to.equal('http');
      expect(dig(spec, 'ports')).to.deep.equal([{ name: 'http', protocol: 'TCP' }]);
      expect(dig(spec, 'steps', 0, 'options')).to.deep.equal({ x_kubernetes_like: 'kept verbatim', $literal: true });
      expect(dig(spec, 'freeform')).to.deep.equal({ any: { thing: [1, 'two'] } });
      expect(dig(spec, 'note'), 'nullable').to.equal(null);
      expect(spec).not.to.have.property('bogus');
    });

    it('keeps unknown status fields (x-kubernetes-preserve-unknown-fields on status)', async () => {
      expect((await create('status', { color: 'green' })).status).to.equal(201);
      const current = await raw(plane.kubeConfig, 'GET', path('status'));
      const res = await raw(plane.kubeConfig, 'PUT', `${path('status')}/status`, {
        ...current.body, status: { replicas: 1, selector: 'app=x', conditions: [{ type: 'Ready', status: 'True' }], observedGeneration: 1 },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(dig((await raw(plane.kubeConfig, 'GET', path('status'))).body, 'status', 'conditions')).to.deep.equal([{ type: 'Ready', status: 'True' }]);
    });

    it('accepts an int-or-string as either, and an embedded resource with its metadata validated', async () => {
      const res = await create('intorstring', { color: 'blue', port: 8080, template: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inner', bogus: 1 }, data: { a: 'b' } } });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(dig(res.body, 'spec', 'port')).to.equal(8080);
      expect(dig(res.body, 'spec', 'template', 'metadata')).to.deep.equal({ name: 'inner' });
      expect(dig(res.body, 'spec', 'template', 'data')).to.deep.equal({ a: 'b' });
      expect(await rejected('embedded', { color: 'blue', template: { apiVersion: 'v1', metadata: { name: 'x' } } })).to.match(/spec\.template\.kind: Required value/);
    });

    it('enforces CEL rules (message, messageExpression, root rules, transition rules)', async () => {
      expect(await rejected('toomany', { color: 'red', replicas: 7 })).to.contain('spec.replicas: Forbidden: replicas exceed maxReplicas for red objects');
      expect(await rejected('black', { color: 'black' })).to.contain('only dark objects may be black');
      expect((await create('dark-one', { color: 'black' })).status).to.equal(201);
      const current = await raw(plane.kubeConfig, 'GET', path('dark-one'));
      const changed = await raw(plane.kubeConfig, 'PUT', path('dark-one'), { ...current.body, spec: { ...(current.body['spec'] as object), color: 'red' } });
      expect(changed.status).to.equal(422);
      expect(String(changed.body['message'])).to.contain('color is immutable');
    });

    it('enforces enum, pattern, bounds, list types (set, map) and oneOf/not', async () => {
      expect(await rejected('purple', { color: 'purple' })).to.contain('spec.color: Unsupported value: "purple"');
      expect(await rejected('pattern', { color: 'red', name: 'Bad_Name' })).to.contain('spec.name in body should match');
      expect(await rejected('ratio', { color: 'red', ratio: 1 })).to.contain('spec.ratio in body should be less than 1');
      expect(await rejected('set', { color: 'red', tags: ['a', 'a'] })).to.contain('spec.tags[1]: Duplicate value: "a"');
      expect(await rejected('map', { color: 'red', ports: [{ name: 'http' }, { name: 'http', protocol: 'TCP' }] })).to.contain('Duplicate value');
      expect(await rejected('oneof', { color: 'red', steps: [{ name: 's', image: 'x', script: 'y' }] })).to.contain('must validate one and only one schema (oneOf)');
      expect(await rejected('not', { color: 'red', steps: [{ name: 's', image: 'x', deprecated: true }] })).to.contain('must not validate the schema (not)');
    });

    it('serves the selectable field and the scale subresource', async () => {
      const selected = await raw(plane.kubeConfig, 'GET', `${path()}?fieldSelector=${encodeURIComponent('spec.color=green')}`);
      expect(selected.status, JSON.stringify(selected.body)).to.equal(200);
      expect((selected.body['items'] as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name)).to.deep.equal(['status']);
      const scale = await raw(plane.kubeConfig, 'GET', `${path('status')}/scale`);
      expect(scale.status).to.equal(200);
      expect(dig(scale.body, 'spec', 'replicas')).to.equal(1);
      expect(dig(scale.body, 'status', 'selector')).to.equal('app=x');
    });
  });
});
