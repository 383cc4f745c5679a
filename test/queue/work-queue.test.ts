import { expect } from 'chai';
import {
  ExponentialFailureRateLimiter, FakeClock, InvalidDelayError, WorkQueue,
} from '../../lib/queue/index.js';
import { isPending, tick, waitFor } from './wait.js';

/** Takes every waiting key, in order, without marking them done. */
async function drainKeys<K>(queue: WorkQueue<K>): Promise<K[]> {
  const keys: K[] = [];
  while (queue.len() > 0) keys.push((await queue.get())!);
  return keys;
}

describe('WorkQueue', () => {
  describe('add and get', () => {
    it('hands out keys in FIFO order', async () => {
      const queue = new WorkQueue();
      for (const key of ['ns/c', 'ns/a', 'ns/b']) queue.add(key);
      expect(await drainKeys(queue)).to.deep.equal(['ns/c', 'ns/a', 'ns/b']);
    });

    it('does not queue a key that is already waiting', async () => {
      const queue = new WorkQueue();
      for (const key of ['a', 'b', 'a', 'a', 'c', 'b']) queue.add(key);
      expect(queue.len()).to.equal(3);
      expect(await drainKeys(queue)).to.deep.equal(['a', 'b', 'c']);
    });

    it('resolves a waiting get when a key is added', async () => {
      const queue = new WorkQueue();
      const next = queue.get();
      expect(await isPending(next)).to.equal(true);
      queue.add('a');
      expect(await next).to.equal('a');
    });

    it('serves waiting gets in the order they were made', async () => {
      const queue = new WorkQueue();
      const first = queue.get();
      const second = queue.get();
      queue.add('a');
      queue.add('b');
      expect(await Promise.all([first, second])).to.deep.equal(['a', 'b']);
    });

    it('compares keys with ===', async () => {
      const queue = new WorkQueue<object>();
      const a = { name: 'a' };
      queue.add(a);
      queue.add(a);
      queue.add({ name: 'a' });
      expect(queue.len()).to.equal(2);
    });
  });

  describe('processing and dirty keys', () => {
    it('does not hand out a processing key again before done, then does', async () => {
      const queue = new WorkQueue();
      queue.add('a');
      expect(await queue.get()).to.equal('a');
      queue.add('a'); // while processing: remembered, not queued
      queue.add('a');
      expect(queue.len()).to.equal(0);
      const next = queue.get();
      expect(await isPending(next)).to.equal(true);
      queue.done('a');
      expect(await next).to.equal('a'); // exactly once more
      queue.done('a');
      expect(queue.len()).to.equal(0);
    });

    it('does not re-queue a processing key that was not added again', async () => {
      const queue = new WorkQueue();
      queue.add('a');
      await queue.get();
      queue.done('a');
      expect(queue.len()).to.equal(0);
    });

    it('ignores done for a key that is not processing', async () => {
      const queue = new WorkQueue();
      queue.add('a');
      queue.done('a'); // waiting, not processing
      queue.done('zzz');
      expect(await drainKeys(queue)).to.deep.equal(['a']);
    });

    it('with 4 concurrent workers never processes one key twice at once, and processes every key after its last add', async () => {
      const queue = new WorkQueue();
      const keys = Array.from({ length: 50 }, (_, i) => `ns/obj-${i}`);
      let seed = 42;
      const random = (n: number): number => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return Math.floor((seed / 2 ** 31) * n); // high bits: an LCG's low bits cycle
      };
      let step = 0;
      const lastAdd = new Map<string, number>();
      const lastStart = new Map<string, number>();
      const active = new Set<string>();
      let overlaps = 0;
      let reconciles = 0;

      const worker = async (): Promise<void> => {
        for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
          if (active.has(key)) overlaps++;
          active.add(key);
          lastStart.set(key, ++step);
          reconciles++;
          for (let i = random(4); i > 0; i--) await tick(); // an async reconcile of varying length
          active.delete(key);
          queue.done(key);
        }
      };
      const workers = Array.from({ length: 4 }, worker);

      for (let i = 0; i < 1_000; i++) {
        const key = keys[random(keys.length)]!;
        lastAdd.set(key, ++step);
        queue.add(key);
        if (random(3) === 0) await tick();
      }
      // Every added key has started processing after its last add, and nothing is in flight.
      await waitFor(
        () => active.size === 0 && [...lastAdd].every(([key, added]) => (lastStart.get(key) ?? 0) > added),
        'every key to be processed after its last add',
      );
      queue.shutDown();
      await Promise.all(workers);

      expect(overlaps).to.equal(0);
      expect(lastAdd.size).to.equal(50);
      expect(queue.len()).to.equal(0);
      // De-duplication merged some adds, yet each key was processed at least once.
      expect(reconciles).to.be.within(50, 999);
    });
  });

  describe('addAfter', () => {
    it('adds a key once its delay has passed', () => {
      const clock = new FakeClock();
      const queue = new WorkQueue({ clock });
      queue.addAfter('a', 100);
      clock.advance(99);
      expect(queue.len()).to.equal(0);
      clock.advance(1);
      expect(queue.len()).to.equal(1);
    });

    it('adds keys in the order they become ready, ties in the order added', async () => {
      const clock = new FakeClock();
      const queue = new WorkQueue({ clock });
      queue.addAfter('x', 300);
      queue.addAfter('y', 100);
      queue.addAfter('z', 200);
      queue.addAfter('w', 200);
      clock.advance(1_000);
      expect(await drainKeys(queue)).to.deep.equal(['y', 'z', 'w', 'x']);
    });

    it('keeps the earlier time when a key is scheduled twice', async () => {
      const clock = new FakeClock();
      const queue = new WorkQueue({ clock });
      queue.addAfter('a', 1_000);
      queue.addAfter('a', 50); // earlier: wins
      queue.addAfter('b', 50);
      queue.addAfter('b', 1_000); // later: ignored
      clock.advance(50);
      expect(await drainKeys(queue)).to.deep.equal(['a', 'b']);
      queue.done('a');
      queue.done('b');
      clock.advance(2_000);
      expect(queue.len()).to.equal(0);
      expect(clock.pendingTimers).to.equal(0);
    });

    it('adds at once for a delay <= 0 and rejects a delay that is not a number', () => {
      const queue = new WorkQueue();
      queue.addAfter('a', 0);
      queue.addAfter('b', -5);
      expect(queue.len()).to.equal(2);
      expect(() => queue.addAfter('c', Number.NaN)).to.throw(InvalidDelayError).with.property('code', 'InvalidDelay');
      expect(() => queue.addAfter('c', Infinity)).to.throw(InvalidDelayError);
    });

    it('de-duplicates a delayed key against one already waiting', async () => {
      const clock = new FakeClock();
      const queue = new WorkQueue({ clock });
      queue.add('a');
      queue.addAfter('a', 10);
      clock.advance(10);
      expect(await drainKeys(queue)).to.deep.equal(['a']);
    });

    it('uses real timers that fire and do not keep the process alive', async () => {
      const queue = new WorkQueue();
      const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timeouts();
      queue.addAfter('late', 60_000);
      expect(timeouts()).to.equal(before); // unref'd timers are not active resources
      queue.addAfter('soon', 20);
      expect(await queue.get()).to.equal('soon');
      queue.shutDown();
    });
  });

  describe('rate limiting', () => {
    it('adds after the rate limiter delay, which grows per failure and resets on forget', () => {
      const clock = new FakeClock();
      const queue = new WorkQueue({ clock, rateLimiter: new ExponentialFailureRateLimiter({ baseDelayMs: 5 }) });
      queue.addRateLimited('a');
      clock.advance(4);
      expect(queue.len()).to.equal(0);
      clock.advance(1);
      expect(queue.len()).to.equal(1);
      queue.addRateLimited('b');
      queue.addRateLimited('b'); // second failure: 10 ms, the 5 ms entry wins
      expect(queue.numRequeues('b')).to.equal(2);
      queue.forget('b');
      expect(queue.numRequeues('b')).to.equal(0);
    });

    it('uses the default controller rate limiter: 5 ms for a first failure', () => {
      const clock = new FakeClock();
      const queue = new WorkQueue({ clock });
      queue.addRateLimited('a');
      queue.addRateLimited('b');
      queue.addRateLimited('b');
      clock.advance(5);
      expect(queue.len()).to.equal(2); // b's second retry (10 ms) merged with its first
      expect(queue.numRequeues('b')).to.equal(2);
    });
  });

  describe('shut-down', () => {
    it('resolves pending gets with undefined', async () => {
      const queue = new WorkQueue();
      const pending = [queue.get(), queue.get()];
      queue.shutDown();
      expect(await Promise.all(pending)).to.deep.equal([undefined, undefined]);
      expect(queue.shuttingDown).to.equal(true);
    });

    it('ignores new adds but still hands out waiting keys, then undefined', async () => {
      const queue = new WorkQueue();
      queue.add('a');
      queue.shutDown();
      queue.add('b');
      queue.addAfter('c', 0);
      queue.addRateLimited('d');
      expect(await queue.get()).to.equal('a');
      expect(await queue.get()).to.equal(undefined);
    });

    it('drops delayed keys and cancels their timers', () => {
      const clock = new FakeClock();
      const queue = new WorkQueue({ clock });
      queue.addAfter('a', 100);
      queue.addAfter('b', 200);
      expect(clock.pendingTimers).to.equal(1); // one timer, for the first key due
      queue.shutDown();
      expect(clock.pendingTimers).to.equal(0);
      clock.advance(1_000);
      expect(queue.len()).to.equal(0);
    });

    it('shutDownWithDrain waits until every processing key is done', async () => {
      const queue = new WorkQueue();
      queue.add('a');
      queue.add('b');
      const a = (await queue.get())!;
      const b = (await queue.get())!;
      const drained = queue.shutDownWithDrain();
      expect(await queue.get()).to.equal(undefined);
      queue.done(a);
      expect(await isPending(drained)).to.equal(true);
      queue.done(b);
      await drained;
    });

    it('shutDownWithDrain resolves at once when nothing is processing', async () => {
      const queue = new WorkQueue();
      await queue.shutDownWithDrain();
      expect(queue.shuttingDown).to.equal(true);
    });

    it('shutDown ends a pending shutDownWithDrain', async () => {
      const queue = new WorkQueue();
      queue.add('a');
      await queue.get();
      const drained = queue.shutDownWithDrain();
      expect(await isPending(drained)).to.equal(true);
      queue.shutDown();
      await drained;
    });
  });
});
