import { expect } from 'chai';
import { eventually, WaitTimeoutError } from '../../lib/testing/index.js';
import { rejectionOf } from './helpers.js';

describe('testing: eventually', () => {
  it('resolves with the first value that is neither undefined nor false, retrying through errors', async () => {
    let calls = 0;
    const value = await eventually(() => {
      calls++;
      if (calls === 1) throw new Error('not yet');
      return calls < 3 ? undefined : { calls };
    }, { intervalMs: 1 });
    expect(value).to.deep.equal({ calls: 3 });
  });

  it('accepts falsy values other than undefined and false', async () => {
    expect(await eventually(() => 0)).to.equal(0);
    expect(await eventually(() => '')).to.equal('');
  });

  it('fails at the deadline with a typed error naming the condition and the last problem', async () => {
    const err = await rejectionOf(eventually(() => { throw new Error('still broken'); }, { timeoutMs: 50, intervalMs: 5, message: 'the widget' }));
    expect(err).to.be.instanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).code).to.equal('WaitTimeout');
    expect((err as WaitTimeoutError).message).to.include('the widget').and.to.include('still broken');
  });
});
