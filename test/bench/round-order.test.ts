import { expect } from 'chai';
import { CONTENDERS, roundOrder } from '../../bench/convergence.js';

describe('bench: the contenders\u2019 order within a round', () => {
  it('over every 4 rounds runs each of the four first once and right after each other one once', () => {
    const orders = [1, 2, 3, 4, 5].map((round) => roundOrder(CONTENDERS, round));
    expect(orders[0]).to.deep.equal(['maestro', 'controller-runtime', 'peer', 'baseline']);
    expect(orders[4]).to.deep.equal(orders[0]);
    for (const order of orders) expect([...order].sort()).to.deep.equal([...CONTENDERS].sort());
    const firsts = orders.slice(0, 4).map((order) => order[0]);
    expect(new Set(firsts).size).to.equal(4);
    const pairs = orders.slice(0, 4).flatMap((order) => order.slice(1).map((contender, i) => `${order[i]!} > ${contender}`));
    expect(pairs).to.have.length(12);
    expect(new Set(pairs).size, 'every ordered pair once').to.equal(12);
  });

  it('lets two contenders take turns', () => {
    expect(roundOrder(['maestro', 'controller-runtime'], 1)).to.deep.equal(['maestro', 'controller-runtime']);
    expect(roundOrder(['maestro', 'controller-runtime'], 2)).to.deep.equal(['controller-runtime', 'maestro']);
    expect(roundOrder(['maestro'], 3)).to.deep.equal(['maestro']);
    expect(roundOrder([], 3)).to.deep.equal([]);
  });
});
