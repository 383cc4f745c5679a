import { expect } from 'chai';
import {
  V1CustomResourceDefinition, V1JSONSchemaProps, V1NetworkPolicy, V1NetworkPolicyIngressRule, V1NetworkPolicyPeer,
  V1NetworkPolicySpec, V1ObjectMeta, loadYaml, type KubernetesObject,
} from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { toWire } from '../../lib/client/wire.js';
import { keywordsCRD, keywordsCRDYaml } from '../support/crd-keywords.js';
import { dig } from '../support/raw.js';

/** A NetworkPolicy as users write it in YAML: `from` is `_from` in client-node's model. */
const policyWire = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    podSelector: { matchLabels: { app: 'web' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 'http', protocol: 'TCP' }] }],
  },
};

/** The same policy built from model classes. */
function policyModel(): V1NetworkPolicy {
  const peer = new V1NetworkPolicyPeer();
  peer.podSelector = { matchLabels: { role: 'frontend' } };
  const rule = new V1NetworkPolicyIngressRule();
  rule._from = [peer];
  rule.ports = [{ port: 'http', protocol: 'TCP' }];
  const spec = new V1NetworkPolicySpec();
  spec.podSelector = { matchLabels: { app: 'web' } };
  spec.policyTypes = ['Ingress'];
  spec.ingress = [rule];
  const policy = new V1NetworkPolicy();
  policy.apiVersion = 'networking.k8s.io/v1';
  policy.kind = 'NetworkPolicy';
  policy.metadata = Object.assign(new V1ObjectMeta(), { name: 'web', namespace: 'shop' });
  policy.spec = spec;
  return policy;
}

const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('client: the wire form of objects (toWire)', () => {
  it('keeps a wire-form CRD exactly as written, every schema keyword included', () => {
    const wire = keywordsCRD('zoos');
    expect(json(toWire(wire))).to.deep.equal(json(wire));
  });

  it('gives a CRD read by client-node (model names) the same wire form as the YAML it came from', () => {
    const wire = keywordsCRD('zoos');
    const model = loadYaml<V1CustomResourceDefinition>(keywordsCRDYaml('zoos'));
    const schema = model.spec.versions[0]!.schema!.openAPIV3Schema!;
    expect(schema.x_kubernetes_validations, 'client-node renamed it').to.have.length(1);
    expect(json(toWire(model))).to.deep.equal(json(wire));
  });

  it('serialises model instances nested in untyped fields (a schema in items) with wire names', () => {
    const items = Object.assign(new V1JSONSchemaProps(), { x_kubernetes_int_or_string: true, _enum: [1, 'a'] });
    const crd = keywordsCRD('zoos') as V1CustomResourceDefinition;
    const spec = crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!['spec']!;
    spec.properties!['tags'] = { type: 'array', items };
    const wire = json(toWire(crd)) as V1CustomResourceDefinition;
    expect(wire.spec.versions[0]!.schema!.openAPIV3Schema!.properties!['spec']!.properties!['tags']!.items)
      .to.deep.equal({ 'x-kubernetes-int-or-string': true, enum: [1, 'a'] });
  });

  it('keeps user data in untyped fields verbatim (a default whose keys look like model names)', () => {
    const wire = json(toWire(keywordsCRD('zoos')));
    const steps = dig(wire, 'spec', 'versions', 0, 'schema', 'openAPIV3Schema', 'properties', 'spec', 'properties', 'steps');
    expect(dig(steps, 'items', 'properties', 'options', 'default')).to.deep.equal({ x_kubernetes_like: 'kept verbatim', $literal: true });
  });

  it('gives a built-in kind with renamed fields the same wire form from YAML and from model classes', () => {
    expect(json(toWire(policyWire))).to.deep.equal(policyWire);
    expect(json(toWire(policyModel()))).to.deep.equal(policyWire);
    // What client-node's own serializer does with the wire form: `from` is dropped, and the
    // policy would admit every pod instead of the frontend only.
    const lossy = json(ObjectSerializer.serialize(policyWire, 'V1NetworkPolicy')) as typeof policyWire;
    expect(lossy.spec.ingress[0]).not.to.have.property('from');
  });

  it('keeps fields client-node does not model, and prefers the model name when both are given', () => {
    const obj = {
      ...policyWire,
      spec: { ...policyWire.spec, someFutureField: { enabled: true }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }], _from: [{ ipBlock: { cidr: '192.168.0.0/16' } }] }] },
    } as KubernetesObject;
    const wire = json(toWire(obj));
    expect(dig(wire, 'spec', 'someFutureField')).to.deep.equal({ enabled: true });
    expect(dig(wire, 'spec', 'ingress')).to.deep.equal([{ from: [{ ipBlock: { cidr: '192.168.0.0/16' } }] }]);
  });

  it('keeps a field whose value names its constructor like an Object method (constructor, toString) as it is', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, extra: { constructor: { name }, x: 1 } } as KubernetesObject;
      expect(json(toWire(obj)), name).to.deep.equal(json(obj));
    }
  });

  it('writes Dates as RFC 3339 and leaves custom resources untouched', () => {
    const created = new Date('2026-01-02T03:04:05.678Z');
    const wire = toWire({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', creationTimestamp: created } });
    expect(dig(wire, 'metadata', 'creationTimestamp')).to.equal('2026-01-02T03:04:05.678Z');
    const custom = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec: { _from: 1, 'x-y': 2 } };
    expect(toWire(custom)).to.equal(custom);
  });
});
