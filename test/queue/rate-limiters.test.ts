import { expect } from 'chai';
import {
  BucketRateLimiter, defaultControllerRateLimiter, ExponentialFailureRateLimiter, FakeClock, MaxOfRateLimiter,
  RateLimiterConfigurationError, type RateLimiter,
} from '../../lib/queue/index.js';

function whenN<K>(limiter: RateLimiter<K>, key: K, n: number): number[] {
  return Array.from({ length: n }, () => limiter.when(key));
}

describe('ExponentialFailureRateLimiter', () => {
  it('doubles from 5 ms per failure of a key', () => {
    const limiter = new ExponentialFailureRateLimiter<string>();
    expect(whenN(limiter, 'a', 6)).to.deep.equal([5, 10, 20, 40, 80, 160]);
    expect(limiter.numRequeues('a')).to.equal(6);
  });

  it('caps the delay at 1000 s, also after very many failures', () => {
    const limiter = new ExponentialFailureRateLimiter<string>();
    const delays = whenN(limiter, 'a', 2_000);
    // 5 ms * 2^17 = 655.36 s is the last delay below the cap; 2^18 would exceed it.
    expect(delays[17]).to.equal(655_360);
    expect(delays[18]).to.equal(1_000_000);
    expect(delays.slice(18).every((d) => d === 1_000_000)).to.equal(true);
  });

  it('tracks keys independently, and forget resets one key', () => {
    const limiter = new ExponentialFailureRateLimiter<string>();
    whenN(limiter, 'a', 3);
    expect(limiter.when('b')).to.equal(5);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).to.equal(0);
    expect(limiter.when('a')).to.equal(5);
    expect(limiter.when('b')).to.equal(10);
  });

  it('honours custom delays and rejects invalid ones', () => {
    const limiter = new ExponentialFailureRateLimiter<string>({ baseDelayMs: 100, maxDelayMs: 350 });
    expect(whenN(limiter, 'a', 4)).to.deep.equal([100, 200, 350, 350]);
    expect(() => new ExponentialFailureRateLimiter({ baseDelayMs: 0 })).to.throw(RateLimiterConfigurationError);
    expect(() => new ExponentialFailureRateLimiter({ baseDelayMs: 10, maxDelayMs: 5 }))
      .to.throw(RateLimiterConfigurationError).with.property('code', 'RateLimiterConfiguration');
  });
});

describe('BucketRateLimiter', () => {
  it('allows a burst of 100, then spaces requests 100 ms apart (10 qps)', () => {
    const clock = new FakeClock(1_000);
    const limiter = new BucketRateLimiter<string>({ clock });
    const burst = Array.from({ length: 100 }, (_, i) => limiter.when(`k${i}`));
    expect(burst.every((d) => d === 0)).to.equal(true);
    expect(whenN(limiter, 'x', 3)).to.deep.equal([100, 200, 300]);
  });

  it('refills at qps over time, up to the burst', () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter<string>({ qps: 10, burst: 5, clock });
    whenN(limiter, 'x', 5); // empties the bucket
    expect(limiter.when('x')).to.equal(100); // tokens -1
    clock.advance(400); // +4 tokens: 3 left
    expect(whenN(limiter, 'x', 4)).to.deep.equal([0, 0, 0, 100]);
    clock.advance(60_000); // refills to the burst, not beyond
    expect(whenN(limiter, 'x', 6)).to.deep.equal([0, 0, 0, 0, 0, 100]);
  });

  it('keeps no per-key state and rejects invalid settings', () => {
    const limiter = new BucketRateLimiter<string>({ clock: new FakeClock() });
    limiter.when('a');
    expect(limiter.numRequeues('a')).to.equal(0);
    expect(() => new BucketRateLimiter({ qps: 0 })).to.throw(RateLimiterConfigurationError);
    expect(() => new BucketRateLimiter({ burst: 0 })).to.throw(RateLimiterConfigurationError);
    expect(() => new BucketRateLimiter({ burst: 1.5 })).to.throw(RateLimiterConfigurationError);
  });

  it('never waits with an infinite qps', () => {
    const limiter = new BucketRateLimiter<string>({ qps: Infinity, burst: 1, clock: new FakeClock() });
    expect(whenN(limiter, 'a', 10).every((d) => d === 0)).to.equal(true);
  });
});

describe('MaxOfRateLimiter', () => {
  it('returns the longest delay, asking every limiter', () => {
    const clock = new FakeClock();
    const exponential = new ExponentialFailureRateLimiter<string>({ baseDelayMs: 5, maxDelayMs: 1_000_000 });
    const bucket = new BucketRateLimiter<string>({ qps: 1, burst: 1, clock });
    const limiter = new MaxOfRateLimiter(exponential, bucket);
    expect(limiter.when('a')).to.equal(5); // bucket had a token
    expect(limiter.when('a')).to.equal(1_000); // bucket empty: 1 s beats 10 ms
    expect(exponential.numRequeues('a')).to.equal(2);
    expect(limiter.numRequeues('a')).to.equal(2);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).to.equal(0);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('is exponential per key until the shared 10 qps / 100 burst bucket runs dry', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter<string>({ clock });
    expect(whenN(limiter, 'a', 4)).to.deep.equal([5, 10, 20, 40]);
    for (let i = 0; i < 96; i++) limiter.when(`other-${i}`); // the bucket's remaining 96 tokens
    expect(limiter.when('fresh')).to.equal(100); // bucket, not 5 ms backoff
    limiter.forget('a');
    expect(limiter.numRequeues('a')).to.equal(0);
  });
});
