import { expect } from 'chai';
import { Context, InvalidBindingError, NotBoundError, StaticBindable } from '../../lib/conductor/index.js';

describe('StaticBindable', () => {
  interface Plan { replicas: number }

  it('returns the value bound in the context, and in contexts derived from it', () => {
    const binder = new StaticBindable<Plan>('plan');
    const ctx = binder.bindToContext(Context.background(), { replicas: 3 });
    expect(binder.fromContext(ctx)).to.deep.equal({ replicas: 3 });
    const [derived] = ctx.withCancel();
    expect(binder.fromContext(derived)).to.deep.equal({ replicas: 3 });
  });

  it('leaves the original context untouched (contexts are immutable)', () => {
    const binder = new StaticBindable<Plan>('plan');
    const root = Context.background();
    binder.bindToContext(root, { replicas: 3 });
    expect(binder.tryFromContext(root)).to.equal(undefined);
  });

  it('throws a typed NotBoundError naming the binder when nothing was bound', () => {
    const binder = new StaticBindable<Plan>('plan');
    expect(() => binder.fromContext(Context.background()))
      .to.throw(NotBoundError, /binder 'plan'/)
      .with.property('code', 'NotBound');
    try { binder.fromContext(Context.background()); } catch (err) { expect((err as NotBoundError).binder).to.equal('plan'); }
  });

  it('never lets two binders of the same type see each other\u2019s values', () => {
    const first = new StaticBindable<Plan>('plan');
    const second = new StaticBindable<Plan>('plan');
    const ctx = first.bindToContext(Context.background(), { replicas: 1 });
    expect(second.tryFromContext(ctx)).to.equal(undefined);
    const both = second.bindToContext(ctx, { replicas: 2 });
    expect(first.fromContext(both).replicas).to.equal(1);
    expect(second.fromContext(both).replicas).to.equal(2);
  });

  it('lets a later binding shadow an earlier one', () => {
    const binder = new StaticBindable<Plan>();
    const ctx = binder.bindToContext(binder.bindToContext(Context.background(), { replicas: 1 }), { replicas: 5 });
    expect(binder.fromContext(ctx).replicas).to.equal(5);
  });

  it('refuses to bind undefined with a typed error', () => {
    const binder = new StaticBindable<Plan | undefined>('maybe');
    expect(() => binder.bindToContext(Context.background(), undefined)).to.throw(InvalidBindingError);
  });
});
