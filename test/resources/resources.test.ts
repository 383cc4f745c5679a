import { expect } from 'chai';
import { V1ConfigMap, V1Deployment, V1Namespace, V1ObjectMeta } from '@kubernetes/client-node';
import { InvalidResourceError, UnknownResourceError, customResources, defaultPlural, defineResource, resourceOf } from '../../lib/runtime/index.js';

describe('resources', () => {
  it('maps built-in client-node classes to group, version, kind, plural and scope', () => {
    expect(resourceOf(V1Deployment)).to.include({ group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, apiVersion: 'apps/v1' });
    expect(resourceOf(V1ConfigMap)).to.include({ group: '', apiVersion: 'v1', plural: 'configmaps' });
    expect(resourceOf(V1Namespace).namespaced).to.equal(false);
  });

  it('maps plain objects by apiVersion and kind', () => {
    expect(resourceOf({ apiVersion: 'apps/v1', kind: 'Deployment' }).plural).to.equal('deployments');
  });

  it('registers custom resources and derives plural and apiVersion', () => {
    class Widget { metadata?: V1ObjectMeta; }
    const info = defineResource(Widget, { group: 'test.maestro.dev', version: 'v1alpha1', kind: 'Widget', shortNames: ['wd'] });
    expect(info).to.include({ plural: 'widgets', apiVersion: 'test.maestro.dev/v1alpha1', namespaced: true });
    expect(resourceOf(Widget)).to.equal(info);
    expect(resourceOf({ apiVersion: 'test.maestro.dev/v1alpha1', kind: 'Widget' })).to.equal(info);
    expect(defineResource(Widget, { group: 'test.maestro.dev', version: 'v1alpha1', kind: 'Widget', shortNames: ['wd'] })).to.deep.equal(info);
  });

  it('rejects conflicting or malformed declarations with a typed error', () => {
    // A kind of its own: the default registry is shared with the other test files.
    class Doohickey {}
    defineResource(Doohickey, { group: 'test.maestro.dev', version: 'v1', kind: 'Doohickey' });
    expect(() => defineResource(Doohickey, { group: 'test.maestro.dev', version: 'v2', kind: 'Doohickey' })).to.throw(InvalidResourceError);
    class Other {}
    expect(() => defineResource(Other, { group: 'test.maestro.dev', version: 'v1', kind: 'Doohickey', namespaced: false })).to.throw(InvalidResourceError);
    expect(() => defineResource(Other, { group: 'Not_A_Group', version: 'v1', kind: 'Other' })).to.throw(InvalidResourceError, /DNS subdomain/);
    expect(() => defineResource(Other, { group: 'x.dev', version: '1', kind: 'Other' })).to.throw(InvalidResourceError, /version/);
    expect(() => defineResource(Other, { group: 'x.dev', version: 'v1', kind: 'other' })).to.throw(InvalidResourceError, /CamelCase/);
  });

  it('explains how to fix an unknown class or object', () => {
    class Unknown {}
    expect(() => resourceOf(Unknown)).to.throw(UnknownResourceError, /@Resource/).with.property('code', 'UnknownResource');
    expect(() => resourceOf({ apiVersion: 'x.dev/v1', kind: 'Nope' })).to.throw(UnknownResourceError, /Nope \(x.dev\/v1\)/);
    expect(() => resourceOf({})).to.throw(UnknownResourceError, /without apiVersion and kind/);
  });

  it('recognises a built-in model class from a second copy of client-node by its name', () => {
    class V1ConfigMap { static getAttributeTypeMap() { return []; } }
    expect(resourceOf(V1ConfigMap).plural).to.equal('configmaps');
    class V1Pod {}
    expect(() => resourceOf(V1Pod), 'a look-alike that is not a model').to.throw(UnknownResourceError);
  });

  it('lists the custom resources declared so far, without the built-ins', () => {
    class Thing {}
    defineResource(Thing, { group: 'test.maestro.dev', version: 'v1', kind: 'Thing' });
    const custom = customResources();
    expect(custom.map((c) => c.type)).to.include(Thing);
    expect(custom.map((c) => c.resource.kind)).not.to.include('Deployment');
  });

  it('derives plurals the way CRD authors do', () => {
    expect(['StaticSite', 'Policy', 'Ingress', 'Box', 'Key'].map(defaultPlural)).to.deep.equal(['staticsites', 'policies', 'ingresses', 'boxes', 'keys']);
  });
});
