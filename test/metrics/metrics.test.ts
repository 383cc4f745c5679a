import { expect } from 'chai';
import { Counter, Registry, register as globalRegistry } from 'prom-client';
import {
  InvalidReconcileResultError, MetricConflictError, Metrics, RECONCILE_TIME_BUCKETS, type ReconcileResult,
} from '../../lib/metrics/index.js';
import { ExponentialFailureRateLimiter, FakeClock, WorkQueue } from '../../lib/queue/index.js';

/** Parses exposition text into "name{labels}" -> value. */
async function scrape(metrics: Metrics): Promise<Map<string, number>> {
  const samples = new Map<string, number>();
  for (const line of (await metrics.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

function value(samples: Map<string, number>, series: string): number {
  const v = samples.get(series);
  if (v === undefined) throw new Error(`series ${series} not scraped; have:\n${[...samples.keys()].join('\n')}`);
  return v;
}

const Q = '{controller="x",name="x"}';
const DEPTH = 'workqueue_depth{controller="x",name="x",priority=""}';

describe('Metrics', () => {
  describe('queue', () => {
    it('starts every workqueue series at zero, with controller-runtime labels', async () => {
      const metrics = new Metrics();
      metrics.queue('x');
      const s = await scrape(metrics);
      expect(value(s, DEPTH)).to.equal(0);
      for (const name of ['workqueue_adds_total', 'workqueue_retries_total', 'workqueue_unfinished_work_seconds',
        'workqueue_longest_running_processor_seconds', 'workqueue_queue_duration_seconds_count', 'workqueue_work_duration_seconds_count']) {
        expect(value(s, `${name}${Q}`), name).to.equal(0);
      }
      expect(value(s, 'workqueue_queue_duration_seconds_bucket{le="1e-8",controller="x",name="x"}')).to.equal(0);
      expect(value(s, 'workqueue_work_duration_seconds_bucket{le="1000",controller="x",name="x"}')).to.equal(0);
      const text = await metrics.text();
      expect(text).to.include('# HELP workqueue_depth Current depth of workqueue by workqueue and priority');
      expect(text).to.include('# TYPE workqueue_queue_duration_seconds histogram');
    });

    it('reports depth, adds, retries and durations of a WorkQueue', async () => {
      const clock = new FakeClock();
      const metrics = new Metrics();
      const queue = new WorkQueue({
        name: 'x', clock, metrics: metrics.queue('x'), rateLimiter: new ExponentialFailureRateLimiter({ baseDelayMs: 100 }),
      });
      queue.add('a');
      queue.add('b');
      queue.add('a'); // de-duplicated: not an add
      let s = await scrape(metrics);
      expect(value(s, DEPTH)).to.equal(2);
      expect(value(s, `workqueue_adds_total${Q}`)).to.equal(2);

      clock.advance(250);
      expect(await queue.get()).to.equal('a');
      s = await scrape(metrics);
      expect(value(s, DEPTH)).to.equal(1);
      expect(value(s, `workqueue_queue_duration_seconds_count${Q}`)).to.equal(1);
      expect(value(s, `workqueue_queue_duration_seconds_sum${Q}`)).to.equal(0.25);

      clock.advance(1_000); // unfinished-work gauges refresh every 500 ms while processing
      s = await scrape(metrics);
      expect(value(s, `workqueue_unfinished_work_seconds${Q}`)).to.equal(1);
      expect(value(s, `workqueue_longest_running_processor_seconds${Q}`)).to.equal(1);

      queue.addRateLimited('a'); // a retry, due in 100 ms
      queue.done('a');
      s = await scrape(metrics);
      expect(value(s, `workqueue_retries_total${Q}`)).to.equal(1);
      expect(value(s, `workqueue_work_duration_seconds_count${Q}`)).to.equal(1);
      expect(value(s, `workqueue_work_duration_seconds_sum${Q}`)).to.equal(1);
      expect(value(s, 'workqueue_work_duration_seconds_bucket{le="1",controller="x",name="x"}')).to.equal(1);
      expect(value(s, 'workqueue_work_duration_seconds_bucket{le="0.1",controller="x",name="x"}')).to.equal(0);

      clock.advance(100); // the retry joins the queue, then the gauges report no work in progress
      s = await scrape(metrics);
      expect(value(s, DEPTH)).to.equal(2);
      expect(value(s, `workqueue_adds_total${Q}`)).to.equal(3);
      clock.advance(500);
      s = await scrape(metrics);
      expect(value(s, `workqueue_unfinished_work_seconds${Q}`)).to.equal(0);
      expect(clock.pendingTimers).to.equal(0); // no refresh timer while idle

      expect(await queue.get()).to.equal('b');
      expect(await queue.get()).to.equal('a');
      s = await scrape(metrics);
      expect(value(s, DEPTH)).to.equal(0);
      expect(value(s, `workqueue_queue_duration_seconds_count${Q}`)).to.equal(3);
      queue.shutDown();
      expect(clock.pendingTimers).to.equal(0);
    });

    it('counts a key re-added while processing in the depth, as client-go does', async () => {
      const metrics = new Metrics();
      const queue = new WorkQueue({ metrics: metrics.queue('x') });
      queue.add('a');
      await queue.get();
      queue.add('a');
      expect(queue.len()).to.equal(0);
      expect(value(await scrape(metrics), DEPTH)).to.equal(1);
      queue.done('a');
      await queue.get();
      expect(value(await scrape(metrics), DEPTH)).to.equal(0);
      queue.shutDown();
    });
  });

  describe('controller', () => {
    it('starts the controller-runtime series at zero', async () => {
      const metrics = new Metrics();
      metrics.controller('web');
      const s = await scrape(metrics);
      for (const result of ['success', 'error', 'requeue', 'requeue_after']) {
        expect(value(s, `controller_runtime_reconcile_total{controller="web",result="${result}"}`), result).to.equal(0);
      }
      expect(value(s, 'controller_runtime_reconcile_errors_total{controller="web"}')).to.equal(0);
      expect(value(s, 'controller_runtime_terminal_reconcile_errors_total{controller="web"}')).to.equal(0);
      expect(value(s, 'controller_runtime_reconcile_timeouts_total{controller="web"}')).to.equal(0);
      expect(value(s, 'controller_runtime_active_workers{controller="web"}')).to.equal(0);
    });

    it('counts reconciles by result, errors, terminal errors and timeouts, and observes durations', async () => {
      const metrics = new Metrics();
      const web = metrics.controller('web');
      web.setMaxConcurrentReconciles(4);
      web.addActiveWorkers(1);
      web.addActiveWorkers(1);
      web.addActiveWorkers(-1);
      web.reconciled('success', 0.02);
      web.reconciled('success', 0.3);
      web.reconciled('requeue', 0.001);
      web.reconciled('requeue_after', 2);
      web.reconciled('error', 0.5);
      web.reconciled('error', 70);
      web.terminalError();
      web.timedOut();
      const s = await scrape(metrics);
      const total = (result: string): number => value(s, `controller_runtime_reconcile_total{controller="web",result="${result}"}`);
      expect([total('success'), total('requeue'), total('requeue_after'), total('error')]).to.deep.equal([2, 1, 1, 2]);
      expect(value(s, 'controller_runtime_reconcile_errors_total{controller="web"}')).to.equal(2);
      expect(value(s, 'controller_runtime_terminal_reconcile_errors_total{controller="web"}')).to.equal(1);
      expect(value(s, 'controller_runtime_reconcile_timeouts_total{controller="web"}')).to.equal(1);
      expect(value(s, 'controller_runtime_max_concurrent_reconciles{controller="web"}')).to.equal(4);
      expect(value(s, 'controller_runtime_active_workers{controller="web"}')).to.equal(1);
      expect(value(s, 'controller_runtime_reconcile_time_seconds_count{controller="web"}')).to.equal(6);
      expect(value(s, 'controller_runtime_reconcile_time_seconds_bucket{le="0.005",controller="web"}')).to.equal(1);
      expect(value(s, 'controller_runtime_reconcile_time_seconds_bucket{le="0.5",controller="web"}')).to.equal(4);
      expect(value(s, 'controller_runtime_reconcile_time_seconds_bucket{le="60",controller="web"}')).to.equal(5);
      expect(value(s, 'controller_runtime_reconcile_time_seconds_bucket{le="+Inf",controller="web"}')).to.equal(6);
      const les = [...s.keys()].filter((k) => k.startsWith('controller_runtime_reconcile_time_seconds_bucket'));
      expect(les).to.have.length(RECONCILE_TIME_BUCKETS.length + 1);
    });

    it('rejects an unknown result', () => {
      const web = new Metrics().controller('web');
      expect(() => web.reconciled('done' as ReconcileResult, 1)).to.throw(InvalidReconcileResultError);
    });
  });

  describe('leaderElection', () => {
    it('reports leader_election_master_status, 0 until leader', async () => {
      const metrics = new Metrics();
      const lease = metrics.leaderElection('web-lock');
      expect(value(await scrape(metrics), 'leader_election_master_status{name="web-lock"}')).to.equal(0);
      lease.setLeader(true);
      expect(value(await scrape(metrics), 'leader_election_master_status{name="web-lock"}')).to.equal(1);
      lease.setLeader(false);
      expect(value(await scrape(metrics), 'leader_election_master_status{name="web-lock"}')).to.equal(0);
    });
  });

  describe('registries', () => {
    it('gives each instance its own registry, not the global one', async () => {
      const one = new Metrics();
      const two = new Metrics();
      expect(one.registry).to.not.equal(two.registry);
      one.queue('x').add();
      one.queue('x').add();
      two.queue('x').add();
      expect(value(await scrape(one), `workqueue_adds_total${Q}`)).to.equal(2);
      expect(value(await scrape(two), `workqueue_adds_total${Q}`)).to.equal(1);
      expect(globalRegistry.getSingleMetric('workqueue_adds_total')).to.equal(undefined);
      expect(one.contentType).to.match(/^text\/plain/);
    });

    it('lets instances share a registry', async () => {
      const registry = new Registry();
      const one = new Metrics({ registry });
      const two = new Metrics({ registry });
      one.controller('a').reconciled('success', 1);
      two.controller('b').reconciled('success', 1);
      const s = await scrape(one);
      expect(value(s, 'controller_runtime_reconcile_total{controller="a",result="success"}')).to.equal(1);
      expect(value(s, 'controller_runtime_reconcile_total{controller="b",result="success"}')).to.equal(1);
    });

    it('refuses a registry holding a same-named metric of another shape', () => {
      const wrongType = new Registry();
      new Counter({ name: 'workqueue_depth', help: 'not a gauge', labelNames: ['name'], registers: [wrongType] });
      expect(() => new Metrics({ registry: wrongType })).to.throw(MetricConflictError).with.property('code', 'MetricConflict');
      const wrongLabels = new Registry();
      new Counter({ name: 'workqueue_adds_total', help: 'only name', labelNames: ['name'], registers: [wrongLabels] });
      expect(() => new Metrics({ registry: wrongLabels })).to.throw(MetricConflictError, /labels/);
    });
  });
});
