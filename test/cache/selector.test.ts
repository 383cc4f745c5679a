import { expect } from 'chai';
import { InvalidSelectorError, parseLabelSelector } from '../../lib/runtime/index.js';

describe('parseLabelSelector', () => {
  const cases: Array<[string, Record<string, string> | undefined, boolean]> = [
    ['app=web', { app: 'web' }, true],
    ['app==web', { app: 'web' }, true],
    ['app=web', { app: 'db' }, false],
    ['app!=web', { app: 'db' }, true],
    ['app!=web', {}, true],
    ['app!=web', { app: 'web' }, false],
    ['env in (prod, staging)', { env: 'staging' }, true],
    ['env in (prod,staging)', { env: 'dev' }, false],
    ['env notin (prod)', { env: 'dev' }, true],
    ['env notin (prod)', {}, true],
    ['canary', { canary: '' }, true],
    ['canary', {}, false],
    ['!canary', {}, true],
    ['!canary', { canary: 'yes' }, false],
    ['app=web,tier in (fe,be),!canary', { app: 'web', tier: 'be' }, true],
    ['app=web,tier in (fe,be),!canary', { app: 'web', tier: 'be', canary: 'x' }, false],
    ['example.com/team=a', { 'example.com/team': 'a' }, true],
    ['', undefined, true],
  ];
  for (const [selector, labels, expected] of cases) {
    it(`${expected ? 'matches' : 'does not match'} ${JSON.stringify(labels)} with '${selector}'`, () => {
      expect(parseLabelSelector(selector).matches(labels)).to.equal(expected);
    });
  }

  it('matches only own labels, never keys every object inherits (constructor, toString...)', () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(parseLabelSelector(key).matches({}), `'${key}' on no labels`).to.equal(false);
      expect(parseLabelSelector(key).matches({ app: 'web' }), `'${key}' on other labels`).to.equal(false);
      expect(parseLabelSelector(`!${key}`).matches({}), `'!${key}'`).to.equal(true);
      expect(parseLabelSelector(`${key} notin (x)`).matches({}), `'${key} notin (x)'`).to.equal(true);
      expect(parseLabelSelector(`${key}=x`).matches({ [key]: 'x' }), `'${key}=x' on its own label`).to.equal(true);
    }
    expect(parseLabelSelector({ constructor: 'Object' }).matches({})).to.equal(false);
  });

  it('accepts a map of required labels, and renders it for API requests', () => {
    const selector = parseLabelSelector({ app: 'web', tier: 'fe' });
    expect(selector.matches({ app: 'web', tier: 'fe', extra: '1' })).to.equal(true);
    expect(selector.matches({ app: 'web' })).to.equal(false);
    expect(selector.toString()).to.equal('app=web,tier=fe');
  });

  it('rejects malformed selectors with a typed error', () => {
    for (const bad of ['app=(web)', 'a b', 'Not Valid=x', 'env in prod']) {
      expect(() => parseLabelSelector(bad), bad).to.throw(InvalidSelectorError).with.property('code', 'InvalidSelector');
    }
  });
});
