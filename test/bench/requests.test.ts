import { expect } from 'chai';
import { parseMessageLine } from '../../bench/children.js';
import { classify } from '../../bench/requests.js';

describe('bench request classification', () => {
  it('tells watches, lists, gets and writes apart, as every contender counts them', () => {
    expect(classify('GET', '/apis/bench.maestro.dev/v1/namespaces/ns/sites?watch=true&resourceVersion=5')).to.equal('watch');
    expect(classify('GET', '/api/v1/namespaces/ns/configmaps?limit=500')).to.equal('list');
    expect(classify('GET', '/apis/bench.maestro.dev/v1/sites')).to.equal('list');
    expect(classify('GET', '/api/v1/namespaces/ns/configmaps/site-00001')).to.equal('get');
    expect(classify('PATCH', '/api/v1/namespaces/ns/services/site-1?fieldManager=site-operator&force=true')).to.equal('patch');
    expect(classify('PATCH', '/apis/bench.maestro.dev/v1/namespaces/ns/sites/site-1/status')).to.equal('patchStatus');
    expect(classify('post', '/api/v1/namespaces/ns/events')).to.equal('post');
    expect(classify('DELETE', '/api/v1/namespaces/ns')).to.equal('delete');
    expect(classify('GET', '/version')).to.equal('get');
  });
});

describe('bench native contender protocol', () => {
  it('takes JSON objects with a type as messages, anything else as output', () => {
    expect(parseMessageLine('{"type":"ready","stats":{"reconciles":0}}')).to.deep.equal({ type: 'ready', stats: { reconciles: 0 } });
    expect(parseMessageLine('  {"type":"final","stats":{}}  ')).to.deep.equal({ type: 'final', stats: {} });
    expect(parseMessageLine('I1202 07:00:00 controller started')).to.equal(undefined);
    expect(parseMessageLine('{"level":"error","msg":"x"}')).to.equal(undefined);
    expect(parseMessageLine('{not json')).to.equal(undefined);
  });
});
