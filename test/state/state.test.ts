import { expect } from 'chai';
import { V1Deployment } from '@kubernetes/client-node';
import { Context, InvalidConditionError, State, type Condition, type NewCondition } from '../../lib/conductor/index.js';

const hourBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);
const hourAfter = new Date(Math.floor(Date.now() / 1000) * 1000 + 3600_000);

function parentWith(conditions: Array<Partial<Condition>>, generation?: number): V1Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', ...(generation === undefined ? {} : { generation }) },
    status: { conditions: conditions as never },
  };
}

const at = (date: Date) => date.getTime();

describe('State.addCondition (the semantics of apimachinery meta.SetStatusCondition)', () => {
  interface Case {
    name: string;
    existing: Array<Partial<Condition>>;
    add: NewCondition;
    changed: boolean;
    expected: Array<Partial<Condition>>;
  }
  const cases: Case[] = [
    {
      name: 'appends a condition of a new type after the existing ones, keeping its supplied time',
      existing: [{ type: 'First', status: 'True', reason: 'R' }, { type: 'Third', status: 'True', reason: 'R' }],
      add: { type: 'Second', status: 'True', reason: 'Reason', message: 'message', lastTransitionTime: hourBefore },
      changed: true,
      expected: [{ type: 'First' }, { type: 'Third' }, { type: 'Second', status: 'True', reason: 'Reason', message: 'message', lastTransitionTime: hourBefore }],
    },
    {
      name: 'uses the supplied time when the status changes',
      existing: [{ type: 'First', status: 'True', reason: 'R' }, { type: 'Second', status: 'False', reason: 'R', lastTransitionTime: hourAfter }],
      add: { type: 'Second', status: 'True', reason: 'Reason', message: 'message', lastTransitionTime: hourBefore },
      changed: true,
      expected: [{ type: 'First' }, { type: 'Second', status: 'True', reason: 'Reason', message: 'message', lastTransitionTime: hourBefore }],
    },
    {
      name: 'updates reason, message and observedGeneration in place but keeps the transition time when the status is unchanged',
      existing: [{ type: 'Second', status: 'True', reason: 'Old', message: 'old', lastTransitionTime: hourBefore }],
      add: { type: 'Second', status: 'True', reason: 'Reason', message: 'message', observedGeneration: 3, lastTransitionTime: hourAfter },
      changed: true,
      expected: [{ type: 'Second', status: 'True', reason: 'Reason', message: 'message', observedGeneration: 3, lastTransitionTime: hourBefore }],
    },
    {
      name: 'reports no change when the same condition is set again',
      existing: [{ type: 'First', status: 'True', reason: 'Reason', message: 'm', observedGeneration: 2, lastTransitionTime: hourBefore }],
      add: { type: 'First', status: 'True', reason: 'Reason', message: 'm', observedGeneration: 2 },
      changed: false,
      expected: [{ type: 'First', status: 'True', reason: 'Reason', message: 'm', observedGeneration: 2, lastTransitionTime: hourBefore }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const state = new State(parentWith(c.existing), Context.background());
      expect(state.addCondition(c.add)).to.equal(c.changed);
      const actual = state.conditions();
      expect(actual.map((x) => x.type)).to.deep.equal(c.expected.map((x) => x.type));
      c.expected.forEach((want, i) => {
        const got = actual[i]!;
        for (const [field, value] of Object.entries(want)) {
          if (value instanceof Date) expect(at(got.lastTransitionTime), `${want.type}.${field}`).to.equal(at(value));
          else expect(got[field as keyof Condition], `${want.type}.${field}`).to.deep.equal(value);
        }
      });
    });
  }

  it('sets a missing transition time to now, at second precision', () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const state = new State(parentWith([]), Context.background());
    state.addCondition({ type: 'Ready', status: 'True', reason: 'Done' });
    const time = at(state.getCondition('Ready')!.lastTransitionTime);
    expect(time % 1000).to.equal(0);
    expect(time).to.be.at.least(before).and.at.most(Date.now());
  });

  it('moves the transition time to now when the status changes without a supplied time', () => {
    const state = new State(parentWith([{ type: 'Ready', status: 'False', reason: 'Wait', lastTransitionTime: hourBefore }]), Context.background());
    expect(state.addCondition({ type: 'Ready', status: 'True', reason: 'Done' })).to.equal(true);
    expect(at(state.getCondition('Ready')!.lastTransitionTime)).to.be.greaterThan(at(hourBefore));
  });

  it("defaults observedGeneration to the parent's metadata.generation", () => {
    const state = new State(parentWith([], 7), Context.background());
    state.addCondition({ type: 'Ready', status: 'True', reason: 'Done' });
    expect(state.getCondition('Ready')!.observedGeneration).to.equal(7);
    state.addCondition({ type: 'Synced', status: 'True', reason: 'Done', observedGeneration: 5 });
    expect(state.getCondition('Synced')!.observedGeneration).to.equal(5);
  });

  it('keeps the transition time of a condition re-added with unchanged status across conducts', () => {
    const first = new State(parentWith([]), Context.background());
    first.addCondition({ type: 'Ready', status: 'True', reason: 'Done', lastTransitionTime: hourBefore });
    // The next conduct starts from what was persisted (times as RFC 3339 strings on the wire).
    const persisted = JSON.parse(JSON.stringify(first.conditions())) as Condition[];
    const second = new State(parentWith(persisted), Context.background());
    expect(second.addCondition({ type: 'Ready', status: 'True', reason: 'Done' })).to.equal(false);
    expect(at(second.getCondition('Ready')!.lastTransitionTime)).to.equal(at(hourBefore));
    expect(second.changed()).to.equal(false);
  });

  it('keeps conditions that no reconciler touched', () => {
    const state = new State(parentWith([{ type: 'External', status: 'True', reason: 'SetByOthers', lastTransitionTime: hourBefore }]), Context.background());
    state.addCondition({ type: 'Ready', status: 'True', reason: 'Done' });
    expect(state.conditions().map((c) => c.type)).to.deep.equal(['External', 'Ready']);
  });

  it('rejects conditions the API server would reject, with a typed error', () => {
    const state = new State(parentWith([]), Context.background());
    const bad: Array<[string, Partial<NewCondition>]> = [
      ['type', { type: 'not valid!' }],
      ['status', { status: 'Yes' as never }],
      ['reason', { reason: 'has spaces' }],
      ['reason', { reason: '' }],
      ['observedGeneration', { observedGeneration: -1 }],
      ['lastTransitionTime', { lastTransitionTime: 'yesterday' }],
    ];
    for (const [field, override] of bad) {
      const condition: NewCondition = { type: 'Ready', status: 'True', reason: 'Done', ...override };
      expect(() => state.addCondition(condition), field).to.throw(InvalidConditionError).with.property('code', 'InvalidCondition');
    }
    expect(state.conditions()).to.deep.equal([]);
    expect(() => state.addCondition({ type: 'example.com/Synced', status: 'Unknown', reason: 'Pending' })).not.to.throw();
  });
});

describe('State', () => {
  it('removes a condition and reports whether there was one', () => {
    const state = new State(parentWith([{ type: 'Ready', status: 'True', reason: 'R' }]), Context.background());
    expect(state.removeCondition('Ready')).to.equal(true);
    expect(state.removeCondition('Ready')).to.equal(false);
    expect(state.getCondition('Ready')).to.equal(undefined);
    expect(state.changed()).to.equal(true);
  });

  it('answers isTrue only for a condition with status True', () => {
    const state = new State(parentWith([]), Context.background());
    expect(state.isTrue('Ready')).to.equal(false);
    state.addCondition({ type: 'Ready', status: 'Unknown', reason: 'Pending' });
    expect(state.isTrue('Ready')).to.equal(false);
    state.addCondition({ type: 'Ready', status: 'True', reason: 'Done' });
    expect(state.isTrue('Ready')).to.equal(true);
  });

  it('hands out copies, so callers cannot change its conditions behind its back', () => {
    const state = new State(parentWith([]), Context.background());
    state.addCondition({ type: 'Ready', status: 'True', reason: 'Done' });
    state.conditions()[0]!.status = 'False';
    state.getCondition('Ready')!.reason = 'Changed';
    expect(state.getCondition('Ready')).to.include({ status: 'True', reason: 'Done' });
  });

  it('lists the status transitions of the conduct, including new conditions', () => {
    const state = new State(parentWith([
      { type: 'Ready', status: 'False', reason: 'Wait' }, { type: 'Synced', status: 'True', reason: 'Ok' },
    ]), Context.background());
    state.addCondition({ type: 'Ready', status: 'True', reason: 'Done', message: 'up' });
    state.addCondition({ type: 'Synced', status: 'True', reason: 'StillOk' });
    state.addCondition({ type: 'Degraded', status: 'False', reason: 'Fine' });
    expect(state.transitions()).to.deep.equal([
      { type: 'Ready', previous: 'False', status: 'True', reason: 'Done', message: 'up' },
      { type: 'Degraded', previous: undefined, status: 'False', reason: 'Fine', message: '' },
    ]);
  });
});
