import { expect } from 'chai';
import { parseOptions } from '../../bench/options.js';

describe('bench options', () => {
  it('defaults to N = 1000, every scenario and contender, and a round per contender (each goes first once)', () => {
    const o = parseOptions([]);
    expect(o.n).to.deep.equal([1000]);
    expect(o.rounds).to.deep.equal([4]);
    expect(parseOptions(['--contenders', 'maestro,cr']).rounds).to.deep.equal([2]);
    expect(parseOptions(['--contenders', 'maestro,cr', '--rounds', '3']).rounds).to.deep.equal([3]);
    expect(o.only).to.deep.equal(['convergence', 'steady', 'startup', 'overhead', 'cache']);
    expect(o.contenders).to.deep.equal(['maestro', 'controller-runtime', 'baseline', 'peer']);
    expect(o.concurrency).to.equal(8);
    expect(o.from).to.deep.equal([]);
  });

  it('takes several N, each with its rounds, and sorts them ascending', () => {
    const o = parseOptions(['--n', '10000,1000', '--rounds', '1,3']);
    expect(o.n).to.deep.equal([1000, 10000]);
    expect(o.rounds).to.deep.equal([3, 1]);
    expect(parseOptions(['--n', '1000,10000', '--rounds', '2']).rounds).to.deep.equal([2, 2]);
  });

  it('--quick is a small run of the cluster scenarios, unless told otherwise', () => {
    const o = parseOptions(['--quick']);
    expect(o.n).to.deep.equal([200]);
    expect(o.rounds).to.deep.equal([1]);
    expect(o.only).to.deep.equal(['convergence', 'steady', 'startup']);
    expect(parseOptions(['--quick', '--n', '50']).n).to.deep.equal([50]);
  });

  it('runs the convergence when steady state or startup is asked for, and keeps the scenario order', () => {
    expect(parseOptions(['--only', 'startup']).only).to.deep.equal(['convergence', 'startup']);
    expect(parseOptions(['--only', 'cache,steady-state']).only).to.deep.equal(['convergence', 'steady', 'cache']);
  });

  it("accepts 'cr' for controller-runtime and keeps the contenders' order", () => {
    expect(parseOptions(['--contenders', 'peer,cr,maestro']).contenders).to.deep.equal(['maestro', 'controller-runtime', 'peer']);
  });

  it('reads saved results to report with --from', () => {
    expect(parseOptions(['--from', 'a.json, b.json']).from).to.deep.equal(['a.json', 'b.json']);
  });

  it('rejects bad input with a message that names the flag', () => {
    expect(() => parseOptions(['--n', '0'])).to.throw(/--n must be an integer >= 1, got '0'/);
    expect(() => parseOptions(['--n', 'ten'])).to.throw(/--n must be an integer/);
    expect(() => parseOptions(['--n', '1000,1000'])).to.throw(/--n lists a value twice/);
    expect(() => parseOptions(['--n', '1000,10000', '--rounds', '1,2,3'])).to.throw(/--rounds takes one value or one per N/);
    expect(() => parseOptions(['--only', 'everything'])).to.throw(/--only: unknown 'everything'/);
    expect(() => parseOptions(['--contenders', 'kopf'])).to.throw(/--contenders: unknown 'kopf'/);
    expect(() => parseOptions(['--bogus'])).to.throw(/bogus/);
  });
});
