import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, Watch,
  type KubernetesObject, type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { expect } from 'chai';
import { CRDInstallError, type ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { rejectionOf } from './helpers.js';

const group = 'maestro.test';

interface Widget extends KubernetesObject {
  spec?: { size?: number; color?: string };
  status?: { phase?: string };
}

function widgetCRD(): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [{
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' }, color: { type: 'string' } } },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      }],
    },
  };
}

/** Two CRDs in one YAML file, as `controller-gen` output often is. */
const gadgetsYaml = `
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: { plural: gadgets, singular: gadget, kind: Gadget }
  versions:
    - name: v1
      served: true
      storage: true
      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.${group}
spec:
  group: ${group}
  scope: Cluster
  names: { plural: gizmos, singular: gizmo, kind: Gizmo }
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
`;

const statusOf = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

describe('testing: CRDs and custom objects on the shared control plane', () => {
  let plane: ControlPlane;
  let objects: KubernetesObjectApi;
  let custom: CustomObjectsApi;
  let ns: string;

  before(async () => {
    plane = await sharedControlPlane();
    const [crd] = await plane.installCRDs([widgetCRD()]);
    expect(crd!.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')).to.equal(true);
    objects = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
    custom = plane.kubeConfig.makeApiClient(CustomObjectsApi);
  });

  beforeEach(async () => {
    ns = await testNamespace('crds');
  });

  const widget = (name: string, spec: Widget['spec']): Widget => ({
    apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name, namespace: ns }, spec,
  });

  it('installs CRDs from a multi-document YAML file, and again as an update', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maestro-crds-'));
    try {
      const file = join(dir, 'crds.yaml');
      await writeFile(file, gadgetsYaml);
      const first = await plane.installCRDs([file]);
      expect(first.map((c) => c.metadata?.name)).to.deep.equal([`gadgets.${group}`, `gizmos.${group}`]);
      const again = await plane.installCRDs([file]);
      expect(Number(again[0]!.metadata?.resourceVersion)).to.be.at.least(Number(first[0]!.metadata?.resourceVersion));
      // Served: a cluster-scoped custom object can be created at once.
      await objects.create({ apiVersion: `${group}/v1alpha1`, kind: 'Gizmo', metadata: { name: `g-${ns}` } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects input that is not a CRD with a typed error', async () => {
    const err = await rejectionOf(plane.installCRDs([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nope' } }]));
    expect(err).to.be.instanceOf(CRDInstallError);
    expect((err as CRDInstallError).code).to.equal('CRDInstall');
  });

  it('creates, gets, lists, watches and updates a custom object', async () => {
    const watch = new Watch(plane.kubeConfig);
    const seen: string[] = [];
    const list = await objects.list<Widget>(`${group}/v1`, 'Widget', ns);
    let abort: AbortController | undefined;
    const modified = new Promise<Widget>((resolve, reject) => {
      void watch.watch(
        `/apis/${group}/v1/namespaces/${ns}/widgets`,
        { resourceVersion: list.metadata?.resourceVersion },
        (type, obj: Widget) => {
          seen.push(`${type} ${obj.metadata?.name}`);
          if (type === 'MODIFIED') resolve(obj);
        },
        (err) => reject(err instanceof Error ? err : new Error(`watch ended: ${String(err)}`)),
      ).then((c) => { abort = c; }, reject);
    });
    try {
      const created = await objects.create(widget('w1', { size: 1, color: 'red' }));
      expect(created.metadata?.uid).to.be.a('string');
      const got = await objects.read<Widget>({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1', namespace: ns } });
      expect(got.spec).to.deep.equal({ size: 1, color: 'red' });
      const listed = await objects.list<Widget>(`${group}/v1`, 'Widget', ns);
      expect(listed.items.map((w) => w.metadata?.name)).to.deep.equal(['w1']);
      const updated = await objects.replace<Widget>({ ...got, spec: { size: 2, color: 'red' } });
      expect(updated.spec?.size).to.equal(2);
      const event = await modified;
      expect(event.spec?.size).to.equal(2);
      expect(seen).to.deep.equal(['ADDED w1', 'MODIFIED w1']);
    } finally {
      abort?.abort();
    }
  });

  it('answers 409 Conflict to an update with a stale resourceVersion', async () => {
    const created = await objects.create(widget('stale', { size: 1 }));
    await objects.replace<Widget>({ ...created, spec: { size: 2 } });
    const err = await rejectionOf(objects.replace<Widget>({ ...created, spec: { size: 3 } }));
    expect(statusOf(err)).to.equal(409);
  });

  it('keeps metadata.generation on a status update and bumps it on a spec update', async () => {
    const created = await objects.create(widget('gen', { size: 1 }));
    const generation = created.metadata?.generation;
    expect(generation).to.equal(1);
    const withStatus = (await custom.replaceNamespacedCustomObjectStatus({
      group, version: 'v1', namespace: ns, plural: 'widgets', name: 'gen',
      body: { ...created, status: { phase: 'Ready' } },
    })) as Widget;
    expect(withStatus.status?.phase).to.equal('Ready');
    expect(withStatus.metadata?.generation).to.equal(generation);
    // The status subresource ignores spec changes, and the main resource ignores status.
    const specUpdate = await objects.replace<Widget>({ ...withStatus, spec: { size: 5 }, status: { phase: 'Ignored' } });
    expect(specUpdate.metadata?.generation).to.equal(generation! + 1);
    expect(specUpdate.status?.phase).to.equal('Ready');
  });

  it('applies server-side per field manager: a conflicting manager gets 409 unless it forces', async () => {
    const apply = (manager: string, spec: Widget['spec'], force = false): Promise<Widget> =>
      objects.patch<Widget>(widget('ssa', spec), undefined, undefined, manager, force, PatchStrategy.ServerSideApply);
    const first = await apply('alice', { color: 'red', size: 1 });
    expect(first.metadata?.managedFields?.map((f) => f.manager)).to.deep.equal(['alice']);
    const err = await rejectionOf(apply('bob', { color: 'blue' }));
    expect(statusOf(err)).to.equal(409);
    expect(String((err as ApiException<unknown>).body)).to.include('conflict');
    const forced = await apply('bob', { color: 'blue' }, true);
    expect(forced.spec).to.deep.equal({ color: 'blue', size: 1 });
    expect(forced.metadata?.managedFields?.map((f) => f.manager).sort()).to.deep.equal(['alice', 'bob']);
  });
});
