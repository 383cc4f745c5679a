// @Watches, @Index and the watch options of @Parent and @Owns, as buildSpecs turns them into
// specs: event sources, indexes, one cache per kind, and every conflict reported at once.
import 'reflect-metadata';
import { expect } from 'chai';
import { V1ConfigMap, V1Secret, type KubernetesObject, type V1ObjectMeta } from '@kubernetes/client-node';
import { DecoratorError, decoratorsFor } from '../../decorators/index.js';
import type { Reconciler, Result } from '../../lib/index.js';
import { OperatorConfigurationError, Registry, buildSpecs, collectSpecs } from '../../lib/runtime/index.js';
import { byIndex, byLabel, generationChanged, labelsChanged, type MapFunction } from '../../lib/watch/index.js';

class Step implements Reconciler<KubernetesObject> {
  async reconcile(): Promise<Result> {
    return {};
  }
}

class App {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec!: { secretName: string; configName?: string };
}

/** A registry of its own per test, with App declared in it. */
function fixture() {
  const registry = new Registry();
  const d = decoratorsFor(registry);
  d.Resource({ group: 'unit.maestro.dev', version: 'v1', kind: 'App' })(App);
  return { registry, d, App };
}

describe('watch declarations → specs', () => {
  it('records @Watches as map sources, @Owns as owner sources, @Parent predicates, and caches every kind once', () => {
    const { registry, d, App } = fixture();
    const secrets = byIndex<V1Secret>('spec.secretName');
    const bySite = byLabel<V1ConfigMap>('unit.maestro.dev/app');
    const extract = (a: App) => [a.spec.secretName];
    @d.Parent(App, { predicates: [labelsChanged] }) @d.Reconciles(10)
    @d.Index(App, 'spec.secretName', extract)
    @d.Watches(V1Secret, secrets, { labelSelector: { 'unit.maestro.dev/watched': 'true' }, metadataOnly: false })
    class Connect extends Step {}
    @d.Parent(App) @d.Reconciles(20) @d.Owns(V1ConfigMap, { predicates: [generationChanged] })
    @d.Watches(V1ConfigMap, bySite, { predicates: [(a: V1ConfigMap, b: V1ConfigMap) => a.data !== b.data] })
    class Configure extends Step {}

    const spec = buildSpecs({ registry, components: [Connect, Configure] });
    const parent = spec.parents[0]!;
    expect(parent.watches.map((w) => [w.resource.kind, w.mapping, w.declaredBy, w.predicates.length])).to.deep.equal([
      ['ConfigMap', 'owner', 'Configure', 1],
      ['Secret', 'map', 'Connect', 0],
      ['ConfigMap', 'map', 'Configure', 1],
    ]);
    expect(parent.watches[1]!.map).to.equal(secrets);
    expect(Object.keys(parent.watches[2]!.predicates[0]!), 'a bare function filters updates').to.deep.equal(['update']);
    expect(parent.predicates).to.deep.equal([labelsChanged]);
    expect(parent.indexes.map((i) => [i.resource.kind, i.field, i.extract === (extract as unknown)])).to.deep.equal([['App', 'spec.secretName', true]]);
    expect(spec.caches.map((c) => [c.resource.kind, c.labelSelector ?? null, c.metadataOnly, c.indexes.map((i) => i.field)])).to.deep.equal([
      ['App', null, false, ['spec.secretName']],
      ['Secret', 'unit.maestro.dev/watched=true', false, []],
      ['ConfigMap', null, false, []],
    ]);
    expect(spec.caches[2]!.declaredBy).to.deep.equal(['@Owns(V1ConfigMap) on Configure', '@Watches(V1ConfigMap) on Configure']);
    expect(Object.isFrozen(spec.caches[0])).to.equal(true);
  });

  it('merges one kind\u2019s declarations: equal selectors agree, unset ones accept, metadata-only only if all ask for it', () => {
    const { registry, d, App } = fixture();
    const map: MapFunction = () => [];
    const strip = (cm: V1ConfigMap) => cm;
    @d.Parent(App) @d.Reconciles(10)
    @d.Watches(V1Secret, map, { metadataOnly: true, labelSelector: 'b=2,a=1' })
    @d.Watches(V1ConfigMap, map, { metadataOnly: true, transform: strip })
    class One extends Step {}
    @d.Parent(App) @d.Reconciles(20)
    @d.Watches(V1Secret, map, { metadataOnly: true, labelSelector: { a: '1', b: '2' } })
    @d.Owns(V1ConfigMap)
    class Two extends Step {}
    const spec = buildSpecs({ registry, components: [One, Two] });
    const secret = spec.caches.find((c) => c.resource.kind === 'Secret')!;
    const cm = spec.caches.find((c) => c.resource.kind === 'ConfigMap')!;
    expect([secret.labelSelector, secret.metadataOnly]).to.deep.equal(['a=1,b=2', true]);
    expect([cm.metadataOnly, cm.transform === strip], 'owned ConfigMaps are needed whole').to.deep.equal([false, true]);
  });

  it('reports every conflict and invalid option at once, naming the declarations', () => {
    const { registry, d, App } = fixture();
    const map: MapFunction = () => [];
    @d.Parent(App) @d.Reconciles(10)
    @d.Index(App, 'spec.secretName', (a) => a.spec.secretName)
    @d.Watches(V1Secret, map, { labelSelector: 'a=1' })
    @d.Watches(V1ConfigMap, map, { fieldSelector: 'metadata.name=x', transform: (o) => o })
    class One extends Step {}
    @d.Parent(App, { labelSelector: 'not a selector' }) @d.Reconciles(20)
    @d.Index(App, 'spec.secretName', (a) => [a.spec.secretName])
    @d.Watches(V1Secret, map, { labelSelector: 'a=2' })
    @d.Watches(V1ConfigMap, map, { fieldSelector: 'metadata.name=y', transform: (o) => o })
    class Two extends Step {}
    const { problems } = collectSpecs({ registry, components: [One, Two] });
    expect(problems).to.have.length(5);
    expect(problems.join('\n')).to.contain("V1Secret is cached once for the whole operator, but its declarations give different labelSelectors: 'a=1' (@Watches(V1Secret) on One), 'a=2' (@Watches(V1Secret) on Two)")
      .and.contain("@Parent(App) on Two: invalid label selector 'not a selector'")
      .and.contain('different fieldSelectors')
      .and.contain('different transforms')
      .and.contain("App has two different index functions for the field 'spec.secretName' (@Index on One and on Two)");
    expect(() => buildSpecs({ registry, components: [One, Two] })).to.throw(OperatorConfigurationError);
  });

  it('reports a byIndex map of an index nobody declared (it would fail on every event), and an @Owns a selector would hide children from', () => {
    const { registry, d, App } = fixture();
    @d.Parent(App) @d.Reconciles(10)
    @d.Index(App, 'spec.secretName', (a) => a.spec.secretName)
    @d.Watches(V1Secret, byIndex('spec.secrteName'))
    @d.Watches(V1ConfigMap, byIndex('spec.secretName'), { labelSelector: 'app=site' })
    class One extends Step {}
    @d.Parent(App) @d.Reconciles(20) @d.Owns(V1ConfigMap)
    class Two extends Step {}
    const { problems } = collectSpecs({ registry, components: [One, Two] });
    expect(problems).to.deep.equal([
      "@Owns(V1ConfigMap) on Two gives no labelSelector, but @Watches(V1ConfigMap) on One limits the one cache of V1ConfigMap to 'app=site': "
        + 'the owned objects outside it would be invisible; give @Owns(V1ConfigMap) on Two the same labelSelector (and label the children to match), '
        + "or filter the other declaration's events with a predicate (e.g. labelSelected) instead",
      "@Watches(V1Secret, byIndex('spec.secrteName')) on One: App has no index 'spec.secrteName' (its indexes: spec.secretName); "
        + "declare @Index(App, 'spec.secrteName', (obj) => [...]) on a component",
    ]);
    // The same selector on the @Owns is fine, and so is a declared index.
    const ok = fixture();
    @ok.d.Parent(ok.App) @ok.d.Reconciles(10)
    @ok.d.Index(ok.App, 'spec.secretName', (a) => a.spec.secretName)
    @ok.d.Watches(V1ConfigMap, byIndex('spec.secretName'), { labelSelector: 'app=site' })
    @ok.d.Owns(V1ConfigMap, { labelSelector: { app: 'site' } })
    class Three extends Step {}
    expect(collectSpecs({ registry: ok.registry, components: [Three] }).problems).to.deep.equal([]);
    // An empty selector selects everything: no narrowing, so nothing to report.
    const empty = fixture();
    @empty.d.Parent(empty.App) @empty.d.Reconciles(10)
    @empty.d.Watches(V1ConfigMap, () => [], { labelSelector: {}, fieldSelector: '' })
    @empty.d.Owns(V1ConfigMap)
    class Four extends Step {}
    expect(collectSpecs({ registry: empty.registry, components: [Four] }).problems).to.deep.equal([]);
    // reconcileOnce runs one reconcile of some components and no watch: it does not ask for the index.
    expect(collectSpecs({ registry, components: [One], checkWatchIndexes: false }).problems.filter((p) => p.includes('byIndex'))).to.deep.equal([]);
  });

  it('reports unknown kinds in @Watches and @Index', () => {
    const { registry, d, App } = fixture();
    class NotAResource { metadata?: V1ObjectMeta; }
    @d.Parent(App) @d.Reconciles(10) @d.Watches(NotAResource, () => []) @d.Index(NotAResource, 'x', () => 'y')
    class One extends Step {}
    const { problems } = collectSpecs({ registry, components: [One] });
    expect(problems).to.deep.equal([
      'One @Watches(NotAResource), which is not a known Kubernetes resource: decorate it with @Resource',
      "One @Index(NotAResource, 'x'), which is not a known Kubernetes resource: decorate it with @Resource",
    ]);
  });

  it('rejects malformed decorator arguments at once, with a typed error', () => {
    const { d, App } = fixture();
    const decorate = (decorator: ClassDecorator) => () => decorator(class Bad {});
    expect(decorate(d.Watches(V1Secret, 'spec.secretName' as unknown as MapFunction<V1Secret>))).to.throw(DecoratorError, /needs a map function/);
    expect(decorate(d.Watches(V1Secret, () => [], { predicates: [42 as unknown as never] }))).to.throw(DecoratorError, /predicates\[0\]/);
    expect(decorate(d.Watches(V1Secret, () => [], { labelSelector: 7 as unknown as string }))).to.throw(DecoratorError, /labelSelector/);
    expect(decorate(d.Owns(V1Secret, { transform: 'x' as unknown as never }))).to.throw(DecoratorError, /transform/);
    expect(decorate(d.Index(App, '', () => []))).to.throw(DecoratorError, /field name/);
    expect(decorate(d.Index(App, 'spec.x', undefined as unknown as () => []))).to.throw(DecoratorError, /function/);
    expect(decorate(d.Parent(App, { predicates: {} as unknown as [] }))).to.throw(DecoratorError, /array/);
  });
});
