import { expect } from 'chai';
import { Context, ContextCanceledError, ContextKey, DeadlineExceededError } from '../../lib/conductor/index.js';

describe('Context', () => {
  it('starts empty: background has no values, no deadline and is never aborted', () => {
    const ctx = Context.background();
    expect(ctx.value(new ContextKey('x'))).to.equal(undefined);
    expect(ctx.deadline).to.equal(undefined);
    expect(ctx.aborted).to.equal(false);
    expect(ctx.err()).to.equal(undefined);
  });

  it('carries typed values without changing its parent', () => {
    const Name = new ContextKey<string>('name');
    const root = Context.background();
    const child = root.withValue(Name, 'a');
    const grandchild = child.withValue(Name, 'b');
    expect(root.value(Name)).to.equal(undefined);
    expect(child.value(Name)).to.equal('a');
    expect(grandchild.value(Name)).to.equal('b');
  });

  it('keys compare by identity, not by name', () => {
    const a = new ContextKey<number>('same');
    const b = new ContextKey<number>('same');
    expect(Context.background().withValue(a, 1).value(b)).to.equal(undefined);
  });

  it('cancels a child and its descendants, but not its parent', () => {
    const [parent, cancelParent] = Context.background().withCancel();
    const [child, cancelChild] = parent.withCancel();
    const grandchild = child.withValue(new ContextKey('k'), 1);
    cancelChild('done');
    expect(child.aborted).to.equal(true);
    expect(grandchild.err()).to.be.instanceOf(ContextCanceledError);
    expect(parent.aborted).to.equal(false);
    cancelParent();
    expect(parent.signal.aborted).to.equal(true);
  });

  it('propagates a parent cancellation to children', () => {
    const [parent, cancel] = Context.background().withCancel();
    const [child] = parent.withCancel();
    cancel();
    expect(child.signal.aborted).to.equal(true);
    expect(() => child.throwIfAborted()).to.throw(ContextCanceledError);
  });

  it('expires at its deadline, with the earlier of two deadlines winning', async () => {
    const soon = Date.now() + 20;
    const ctx = Context.background().withDeadline(soon).withTimeout(60_000);
    expect(ctx.deadline).to.equal(soon);
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    expect(ctx.err()).to.be.instanceOf(DeadlineExceededError).and.have.property('code', 'DeadlineExceeded');
  });

  it('reports a past deadline synchronously', () => {
    const ctx = Context.background().withDeadline(new Date(Date.now() - 1000));
    expect(ctx.aborted).to.equal(true);
    expect(ctx.err()).to.be.instanceOf(DeadlineExceededError);
  });

  it('ends when an external signal aborts', () => {
    const controller = new AbortController();
    const ctx = Context.background().withSignal(controller.signal);
    controller.abort();
    expect(ctx.err()).to.be.instanceOf(ContextCanceledError);
  });

  it('merges with a base context: own values first, base values as fallback, ends with either', () => {
    const A = new ContextKey<string>('a');
    const B = new ContextKey<string>('b');
    const [base, cancelBase] = Context.background().withValue(A, 'base-a').withValue(B, 'base-b').withCancel();
    const merged = Context.background().withValue(A, 'own-a').merge(base);
    expect(merged.value(A)).to.equal('own-a');
    expect(merged.value(B)).to.equal('base-b');
    expect(merged.aborted).to.equal(false);
    cancelBase();
    expect(merged.aborted).to.equal(true);
  });

  it('rejects an invalid deadline', () => {
    expect(() => Context.background().withDeadline(Number.NaN)).to.throw(RangeError);
  });
});
