// Field selectors and the canonical form of label selectors (what declarations compare).
import { expect } from 'chai';
import { InvalidSelectorError, canonicalLabelSelector, parseFieldSelector } from '../../lib/watch/index.js';

describe('field selectors', () => {
  it('parses =, == and !=, several requirements, and renders a canonical string', () => {
    const s = parseFieldSelector('type==kubernetes.io/tls, metadata.name!=skip');
    expect(s.requirements).to.deep.equal([{ field: 'type', op: '=', value: 'kubernetes.io/tls' }, { field: 'metadata.name', op: '!=', value: 'skip' }]);
    expect(s.toString()).to.equal('metadata.name!=skip,type=kubernetes.io/tls');
    expect(s.matches({ type: 'kubernetes.io/tls', metadata: { name: 'a' } })).to.equal(true);
    expect(s.matches({ type: 'kubernetes.io/tls', metadata: { name: 'skip' } })).to.equal(false);
    expect(s.matches({ type: 'Opaque', metadata: { name: 'a' } })).to.equal(false);
  });

  it('accepts a map, escapes and unescapes values, and treats a missing field as empty', () => {
    const s = parseFieldSelector({ 'metadata.name': 'a,b' });
    expect(s.toString()).to.equal('metadata.name=a\\,b');
    expect(s.matches({ metadata: { name: 'a,b' } })).to.equal(true);
    expect(parseFieldSelector('spec.nodeName=').matches({ spec: {} })).to.equal(true);
    expect(parseFieldSelector('constructor=x').matches({})).to.equal(false);
  });

  it('rejects malformed selectors with a typed error', () => {
    for (const bad of ['no-operator', '=value', 'a b=c']) {
      expect(() => parseFieldSelector(bad), bad).to.throw(InvalidSelectorError);
    }
  });
});

describe('canonical label selectors', () => {
  it('sorts requirements so equal selectors compare equal', () => {
    expect(canonicalLabelSelector('tier=web, app=site')).to.equal(canonicalLabelSelector({ app: 'site', tier: 'web' }));
    expect(canonicalLabelSelector('env in (a,b),!canary')).to.equal('!canary,env in (a,b)');
    expect(() => canonicalLabelSelector('a in')).to.throw(InvalidSelectorError);
  });

  it('rejects what the API server would refuse, before anything runs: bad values and keys, as kube-apiserver checks them', () => {
    // Each of these reached the API server before, which answered 400 on every list retry.
    expect(() => canonicalLabelSelector('a==b==c')).to.throw(InvalidSelectorError, /'b==c' is not a label value/);
    expect(() => canonicalLabelSelector({ app: 'a b' })).to.throw(InvalidSelectorError, /not a label value/);
    expect(() => canonicalLabelSelector('env in (prod,-x)')).to.throw(InvalidSelectorError, /'-x' is not a label value/);
    expect(() => canonicalLabelSelector(`app=${'v'.repeat(64)}`)).to.throw(InvalidSelectorError, /not a label value/);
    expect(() => canonicalLabelSelector(`${'k'.repeat(64)}=v`)).to.throw(InvalidSelectorError, /not a label key/);
    expect(() => canonicalLabelSelector('-app=v')).to.throw(InvalidSelectorError, /not a label key/);
    // What it accepts.
    for (const good of ['app=', `app=${'v'.repeat(63)}`, 'example.com/tier in (web,db)', 'a.b_c-d=e.f_g-h', '!example.com/skip']) {
      expect(() => canonicalLabelSelector(good), good).not.to.throw();
    }
  });
});
