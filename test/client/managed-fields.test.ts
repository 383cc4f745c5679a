// applyWouldBeNoOp: when in doubt, the apply is sent. The cases a real API server does not
// easily produce; kube-client.integration.test.ts covers the ones it does.
import { expect } from 'chai';
import { appliedFieldsOf, applyWouldBeNoOp, type FieldSet } from '../../lib/client/managed-fields.js';

const applied = (fieldsV1: FieldSet, apiVersion = 'v1') => ({ apiVersion, fieldsV1 });
const meta = { name: 'a', namespace: 'ns' };

describe('applyWouldBeNoOp', () => {
  const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...meta, labels: { app: 'x' } }, data: { k: 'v' } };
  const live = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...meta, uid: 'u', resourceVersion: '3', labels: { app: 'x', other: 'y' } }, data: { k: 'v', theirs: 'z' } };
  const fields = { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:data': { 'f:k': {} } };

  it('is a no-op when the manager owns exactly the configured fields and the values are live', () => {
    expect(applyWouldBeNoOp(config, live, applied(fields))).to.equal(true);
  });

  it('is not when anything differs, or when it cannot tell', () => {
    const cases: Array<[string, unknown, unknown, ReturnType<typeof applied> | undefined]> = [
      ['no entry of the manager', config, live, undefined],
      ['another API version', config, live, applied(fields, 'v2')],
      ['a value differs', { ...config, data: { k: 'w' } }, live, applied(fields)],
      ['a field of the manager is no longer configured', { ...config, data: undefined }, live, applied(fields)],
      ['a configured field is not the manager\u2019s', { ...config, data: { k: 'v', theirs: 'z' } }, live, applied(fields)],
      ['a null (delete) in the configuration', { ...config, data: { k: null } }, live, applied(fields)],
      ['an empty map', { ...config, data: {} }, live, applied({ ...fields, 'f:data': {} })],
      ['another name', { ...config, metadata: { ...config.metadata, name: 'b' } }, live, applied(fields)],
      ['a stale resourceVersion precondition', { ...config, metadata: { ...config.metadata, resourceVersion: '2' } }, live, applied(fields)],
    ];
    for (const [what, c, l, a] of cases) expect(applyWouldBeNoOp(c, l, a), what).to.equal(false);
  });

  it('compares atomic lists whole and set lists by value and order', () => {
    const pod = (args: string[], finalizers: string[]) => ({ apiVersion: 'v1', kind: 'X', metadata: { ...meta, finalizers }, spec: { args } });
    const set = applied({ 'f:metadata': { 'f:finalizers': { '.': {}, 'v:"a"': {}, 'v:"b"': {} } }, 'f:spec': { 'f:args': {} } });
    expect(applyWouldBeNoOp(pod(['1', '2'], ['a', 'b']), pod(['1', '2'], ['a', 'b']), set)).to.equal(true);
    expect(applyWouldBeNoOp(pod(['1', '2'], ['a', 'b']), pod(['1', '2'], ['a', 'c', 'b']), set), 'another writer\u2019s element').to.equal(true);
    expect(applyWouldBeNoOp(pod(['2', '1'], ['a', 'b']), pod(['1', '2'], ['a', 'b']), set), 'atomic list reordered').to.equal(false);
    expect(applyWouldBeNoOp(pod(['1', '2'], ['b', 'a']), pod(['1', '2'], ['a', 'b']), set), 'set reordered').to.equal(false);
    expect(applyWouldBeNoOp(pod(['1', '2'], ['a']), pod(['1', '2'], ['a', 'b']), set), 'an element no longer configured').to.equal(false);
  });

  it('reads only the manager\u2019s own apply entry to the object itself', () => {
    const entries = [
      { manager: 'op', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } },
      { manager: 'op', operation: 'Apply', apiVersion: 'v1', subresource: 'status', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': {} } },
      { manager: 'other', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } },
      { manager: 'op', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: fields },
    ];
    expect(appliedFieldsOf(entries, 'op')).to.deep.equal(applied(fields));
    expect(appliedFieldsOf(entries.slice(0, 3), 'op')).to.equal(undefined);
  });
});
