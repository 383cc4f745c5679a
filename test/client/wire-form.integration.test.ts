// The runtime Client writes an object built by hand in wire form and the same object built
// from client-node's model classes identically, and what the API server stores is what was
// meant: for a CRD with x-kubernetes-preserve-unknown-fields and for a built-in kind whose
// fields client-node renames (NetworkPolicy's `from` is the model's `_from`).
import {
  V1CustomResourceDefinition, V1JSONSchemaProps, V1NetworkPolicy, V1NetworkPolicyIngressRule, V1NetworkPolicyPeer, V1NetworkPolicySpec,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { expect } from 'chai';
import { ApiTransport, KubeClient, Registry } from '../../lib/runtime/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { dig, raw } from '../support/raw.js';
import { eventually } from '../support/wait.js';

const group = 'wireform.maestro.test';

/** A CRD as users write it: free-form spec and status (x-kubernetes-preserve-unknown-fields). */
function wireCRD(plural: string): KubernetesObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural, singular: plural.slice(0, -1), kind: plural.charAt(0).toUpperCase() + plural.slice(1, -1) },
      versions: [{
        name: 'v1', served: true, storage: true, subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      }],
    },
  } as KubernetesObject;
}

/** The same CRD built from model classes. */
function modelCRD(plural: string): V1CustomResourceDefinition {
  const free = (): V1JSONSchemaProps => Object.assign(new V1JSONSchemaProps(), { type: 'object', x_kubernetes_preserve_unknown_fields: true });
  const root = Object.assign(new V1JSONSchemaProps(), { type: 'object', properties: { spec: free(), status: free() } });
  const crd = new V1CustomResourceDefinition();
  crd.apiVersion = 'apiextensions.k8s.io/v1';
  crd.kind = 'CustomResourceDefinition';
  crd.metadata = { name: `${plural}.${group}` };
  crd.spec = {
    group,
    scope: 'Namespaced',
    names: { plural, singular: plural.slice(0, -1), kind: plural.charAt(0).toUpperCase() + plural.slice(1, -1) },
    versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: root } }],
  };
  return crd;
}

function wirePolicy(name: string, namespace: string): KubernetesObject {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace },
    spec: {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 'http', protocol: 'TCP' }] }],
    },
  } as KubernetesObject;
}

function modelPolicy(name: string, namespace: string): V1NetworkPolicy {
  const frontend = Object.assign(new V1NetworkPolicyPeer(), { podSelector: { matchLabels: { role: 'frontend' } } });
  const block = Object.assign(new V1NetworkPolicyPeer(), { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } });
  const rule = Object.assign(new V1NetworkPolicyIngressRule(), { _from: [frontend, block], ports: [{ port: 'http', protocol: 'TCP' }] });
  const spec = Object.assign(new V1NetworkPolicySpec(), { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [rule] });
  return Object.assign(new V1NetworkPolicy(), { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });
}

describe('Client: wire-form and model objects are written identically', function () {
  this.timeout(60_000);
  let plane: ControlPlane;
  let client: KubeClient;
  let ns: string;
  before(async () => {
    plane = await sharedControlPlane();
    client = new KubeClient({ transport: ApiTransport.create(plane.kubeConfig), resources: Registry.default.resources, fieldManager: 'wire-form-test' });
    ns = await testNamespace('wireform');
  });

  const schemaOf = async (plural: string): Promise<unknown> =>
    dig((await raw(plane.kubeConfig, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.${group}`)).body, 'spec', 'versions', 0, 'schema');

  for (const verb of ['apply', 'create'] as const) {
    it(`${verb}: a CRD with x-kubernetes-preserve-unknown-fields keeps it, and its objects keep their free-form spec and status`, async () => {
      const [wire, model] = [`${verb}wires`, `${verb}models`];
      await client[verb](wireCRD(wire));
      await client[verb](modelCRD(model));
      const expected = dig(wireCRD('x'), 'spec', 'versions', 0, 'schema');
      expect(await schemaOf(wire)).to.deep.equal(expected);
      expect(await schemaOf(model)).to.deep.equal(expected);

      // What the flag is for: nothing of the spec or status is pruned.
      for (const plural of [wire, model]) {
        const path = `/apis/${group}/v1/namespaces/${ns}/${plural}`;
        const kind = plural.charAt(0).toUpperCase() + plural.slice(1, -1);
        const created = await eventually(async () => {
          const res = await raw(plane.kubeConfig, 'POST', path, { apiVersion: `${group}/v1`, kind, metadata: { name: 'x' }, spec: { nested: { deep: [1, { a: 'b' }] } } });
          return res.status === 201 ? res.body : undefined;
        }, { message: `${plural} served` });
        expect(dig(created, 'spec')).to.deep.equal({ nested: { deep: [1, { a: 'b' }] } });
        const status = await raw(plane.kubeConfig, 'PUT', `${path}/x/status`, { ...created, status: { conditions: [{ type: 'Ready', status: 'True' }], anything: 1 } });
        expect(dig(status.body, 'status'), plural).to.deep.equal({ conditions: [{ type: 'Ready', status: 'True' }], anything: 1 });
      }
    });

    it(`${verb}: a NetworkPolicy keeps its ingress peers ('from', the model's '_from')`, async () => {
      const [wire, model] = [`${verb}-wire`, `${verb}-model`];
      await client[verb](wirePolicy(wire, ns));
      await client[verb](modelPolicy(model, ns));
      const specOf = async (name: string): Promise<unknown> =>
        dig((await raw(plane.kubeConfig, 'GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${name}`)).body, 'spec');
      const stored = await specOf(wire);
      expect(dig(stored, 'ingress', 0, 'from')).to.deep.equal([
        { podSelector: { matchLabels: { role: 'frontend' } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
      ]);
      expect(await specOf(model)).to.deep.equal(stored);
    });
  }
});
