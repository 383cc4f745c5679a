// The three places Maestro reaches into a library's internals, each isolated in one
// adapter module. These tests fail loudly when an upgrade moves or changes what they use:
// re-check the adapter, then update the pinned version here.
import 'reflect-metadata';
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { Type } from 'class-transformer';
import { inject, injectable } from 'tsyringe';
import { V1ConfigMap as V1ConfigMapClass, type V1ConfigMap, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { fromWire, modelFromWire, modelName, modelToWire, toWire } from '../../lib/client/wire.js';
import { typeHintOf } from '../../lib/declare/type-hints.js';
import { injectionTokens } from '../../lib/runtime/injection.js';

const require = createRequire(import.meta.url);
const versionOf = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;

describe('Adapters to library internals (fail loudly on upgrade)', () => {
  describe('lib/client/wire.ts: client-node\u2019s model serializer', () => {
    it('is written against @kubernetes/client-node 2.0.1', () => {
      expect(versionOf('@kubernetes/client-node'), 'client-node changed: re-check lib/client/wire.ts (dist/serializer.js)').to.equal('2.0.1');
    });

    it('finds the serializer registered for an object\u2019s kind through ObjectSerializer\u2019s private getSerializerForObject', () => {
      const lookup = (ObjectSerializer as unknown as { getSerializerForObject?: unknown }).getSerializerForObject;
      expect(lookup, 'client-node moved it: re-check modelFromWire in lib/client/wire.ts').to.be.a('function');
    });

    it('makes a model class\u2019s instance from `{}` and its type name (how the adapter finds a model class), and no instance for other types', () => {
      const made = ObjectSerializer.deserialize({}, 'V1ConfigMap') as object;
      expect(made, 'client-node changed: re-check modelClass in lib/client/wire.ts').to.be.instanceOf(V1ConfigMapClass);
      for (const type of ['string', 'Date', 'Array', 'NoSuchModel']) {
        const other: unknown = ObjectSerializer.deserialize({}, type);
        expect(typeof (Object.getPrototypeOf(other ?? {}) as { constructor?: { getAttributeTypeMap?: unknown } }).constructor?.getAttributeTypeMap, type).to.equal('undefined');
      }
    });

    it('turns wire JSON into model shape (Dates) and back, for built-in kinds', () => {
      const wire = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', creationTimestamp: '2026-01-02T03:04:05Z' }, data: { k: 'v' } };
      const model = fromWire<V1ConfigMap>(structuredClone(wire) as never);
      expect(model.metadata?.creationTimestamp).to.be.instanceOf(Date);
      expect(model.metadata?.creationTimestamp?.toISOString()).to.equal('2026-01-02T03:04:05.000Z');
      expect(JSON.parse(JSON.stringify(toWire(model)))).to.deep.equal({ ...wire, metadata: { ...wire.metadata, creationTimestamp: '2026-01-02T03:04:05.000Z' } });
    });

    it('types the metadata of custom resources and keeps the rest as it is', () => {
      const custom = fromWire<{ metadata?: { creationTimestamp?: Date }; spec?: unknown; kind?: string }>({
        apiVersion: 'example.com/v1', kind: 'Site', metadata: { name: 's', creationTimestamp: '2026-01-02T03:04:05Z' }, spec: { when: '2026-01-02T03:04:05Z' },
      } as never);
      expect(custom.metadata?.creationTimestamp).to.be.instanceOf(Date);
      expect(custom.spec).to.deep.equal({ when: '2026-01-02T03:04:05Z' });
      expect(modelName('example.com/v1', 'Site')).to.equal('KubernetesObject');
      expect(modelName('apps/v1', 'Deployment')).to.equal('V1Deployment');
      expect(modelName('v1', 'Pod')).to.equal('V1Pod');
    });

    it('renames model properties to their wire names (x-kubernetes-*, enum)', () => {
      const crd = modelFromWire<V1CustomResourceDefinition>({
        apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'x.example.com' },
        spec: { group: 'example.com', names: { kind: 'X', plural: 'xs' }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { s: { type: 'string', enum: ['a'] } } } } }] },
      }, 'V1CustomResourceDefinition');
      const schema = crd.spec.versions[0]!.schema!.openAPIV3Schema!;
      expect(schema.x_kubernetes_preserve_unknown_fields).to.equal(true);
      expect(schema.properties!.s!._enum).to.deep.equal(['a']);
      const back = modelToWire(crd, 'V1CustomResourceDefinition') as { spec: { versions: Array<{ schema: { openAPIV3Schema: Record<string, unknown> } }> } };
      expect(back.spec.versions[0]!.schema.openAPIV3Schema).to.deep.equal({
        type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { s: { type: 'string', enum: ['a'] } },
      });
    });
  });

  describe('lib/declare/type-hints.ts: class-transformer\u2019s @Type store', () => {
    it('is written against class-transformer 0.5.1', () => {
      expect(versionOf('class-transformer'), 'class-transformer changed: re-check lib/declare/type-hints.ts (cjs/storage.js)').to.equal('0.5.1');
    });

    it('finds the class @Type gives a property, and nothing without @Type', () => {
      class Port { port!: number; }
      class Spec {
        @Type(() => Port) ports!: Port[];
        plain!: Port;
        @Type((options) => ((options!.object as { kind?: string }).kind === 'a' ? Port : Object)) chosen!: Port;
      }
      expect(typeHintOf(Spec, 'ports')).to.equal(Port);
      expect(typeHintOf(Spec, 'plain')).to.equal(undefined);
      expect(() => typeHintOf(Spec, 'chosen'), 'a type function that needs an object').to.throw();
    });
  });

  describe('lib/runtime/injection.ts: tsyringe\u2019s injectionTokens metadata', () => {
    it('is written against tsyringe 4.10.0', () => {
      expect(versionOf('tsyringe'), 'tsyringe changed: re-check lib/runtime/injection.ts (the injectionTokens key)').to.equal('4.10.0');
    });

    it('reads the tokens a user gave constructor parameters with @inject', () => {
      const token = Symbol('db');
      @injectable()
      class NeedsDb { constructor(@inject('config') readonly config: object, readonly other: Date, @inject(token) readonly db: object) {} }
      const tokens = injectionTokens(NeedsDb);
      expect([...tokens.keys()].sort()).to.deep.equal([0, 2]);
      expect(tokens.get(0)).to.equal('config');
      expect(tokens.get(2)).to.equal(token);
    });
  });
});
