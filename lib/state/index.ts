/**
 * The per-reconcile State: the status conditions collected while a conductor runs its
 * reconcilers, and the context handed from one reconciler to the next.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Condition, NewCondition } from '../api/index.js';
import { isConditionReason, isConditionType } from '../api/names.js';
import { Context, ContextKey } from '../context/index.js';
import { MaestroError } from '../errors/index.js';
import {
  conditionTransitions, copyCondition as copy, readConditions, sameConditions, toDate, type ConditionTransition,
} from './conditions.js';

export type { ConditionTransition } from './conditions.js';

/** Thrown by {@link fetchState} when the context does not belong to a conduct. */
export class StateNotFoundError extends MaestroError {
  readonly code = 'StateNotFound';
  constructor() {
    super('no conductor State in this context: fetchState(ctx) works only with the context a conductor passed to a reconciler (or one derived from it)');
  }
}

/** Thrown by {@link State.addCondition} for a condition Kubernetes would reject. */
export class InvalidConditionError extends MaestroError {
  readonly code = 'InvalidCondition';
}

const STATE = new ContextKey<State>('maestro.state');
const STATUSES: ReadonlySet<string> = new Set(['True', 'False', 'Unknown']);

/** Now, at the second precision Kubernetes stores (`metav1.Time`). */
function now(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

function validate(condition: NewCondition): void {
  const where = `condition ${JSON.stringify(condition?.type)}`;
  if (condition === null || typeof condition !== 'object') throw new InvalidConditionError('a condition must be an object');
  const { type, status, reason, message, observedGeneration } = condition;
  if (!isConditionType(type)) {
    throw new InvalidConditionError(`${where}: type must be a qualified name such as 'Ready' or 'example.com/Synced'`);
  }
  if (!STATUSES.has(status)) throw new InvalidConditionError(`${where}: status must be 'True', 'False' or 'Unknown', got ${JSON.stringify(status)}`);
  if (!isConditionReason(reason)) {
    throw new InvalidConditionError(`${where}: reason must be CamelCase (letters, digits, '_', ',', ':'; 1-1024 characters), got ${JSON.stringify(reason)}`);
  }
  if (message !== undefined && (typeof message !== 'string' || message.length > 32768)) {
    throw new InvalidConditionError(`${where}: message must be a string of at most 32768 characters`);
  }
  if (observedGeneration !== undefined && (!Number.isInteger(observedGeneration) || observedGeneration < 0)) {
    throw new InvalidConditionError(`${where}: observedGeneration must be a non-negative integer, got ${String(observedGeneration)}`);
  }
  if (condition.lastTransitionTime !== undefined && !toDate(condition.lastTransitionTime)) {
    throw new InvalidConditionError(`${where}: lastTransitionTime is not a valid time: ${String(condition.lastTransitionTime)}`);
  }
}

/**
 * The state of one conduct: the parent's status conditions as reconcilers report them,
 * and the context passed to the next reconciler. A conductor creates one per
 * `conduct()`; reconcilers reach it with {@link fetchState}.
 *
 * It starts from the parent's current `status.conditions`, so re-adding a condition
 * with an unchanged status keeps its `lastTransitionTime`, and conditions that no
 * reconciler touches are kept.
 *
 * @example
 * ```ts
 * const state = fetchState(ctx);
 * state.addCondition({ type: 'Ready', status: 'True', reason: 'Reconciled', message: 'all good' });
 * state.isTrue('Ready'); // true
 * ```
 */
export class State {
  #context: Context;
  readonly #conditions: Condition[];
  readonly #initial: readonly Condition[];
  readonly #generation: number | undefined;

  /**
   * Created by the conductor at the start of a conduct; `ctx` is the conduct's context.
   * Reconcilers use {@link fetchState} instead.
   */
  constructor(parent: KubernetesObject, ctx: Context) {
    this.#initial = readConditions(parent);
    this.#conditions = this.#initial.map(copy);
    const generation = parent.metadata?.generation;
    this.#generation = typeof generation === 'number' ? generation : undefined;
    this.#context = ctx.withValue(STATE, this);
  }

  /** The context the next reconciler receives: the conduct's, plus what {@link updateContext} added. */
  get context(): Context {
    return this.#context;
  }

  /**
   * Makes later reconcilers receive `ctx`, typically one with more bound values
   * (see `StaticBindable.bindToContext`). The State stays reachable from it.
   */
  updateContext(ctx: Context): void {
    this.#context = ctx.value(STATE) === this ? ctx : ctx.withValue(STATE, this);
  }

  /**
   * Sets a condition with the semantics of apimachinery's `meta.SetStatusCondition`:
   * one condition per type (new types are appended); `lastTransitionTime` changes only
   * when `status` changes (to the given time, or now); `reason`, `message` and
   * `observedGeneration` are updated in place. `observedGeneration` defaults to the
   * parent's `metadata.generation`.
   *
   * @returns whether anything changed.
   * @throws {@link InvalidConditionError} for a condition the API server would reject.
   */
  addCondition(condition: NewCondition): boolean {
    validate(condition);
    const observedGeneration = condition.observedGeneration ?? this.#generation;
    const message = condition.message ?? '';
    const given = condition.lastTransitionTime === undefined ? undefined : toDate(condition.lastTransitionTime);
    const existing = this.#conditions.find((c) => c.type === condition.type);
    if (!existing) {
      const added: Condition = {
        type: condition.type,
        status: condition.status,
        reason: condition.reason,
        message,
        lastTransitionTime: given ?? now(),
      };
      if (observedGeneration !== undefined) added.observedGeneration = observedGeneration;
      this.#conditions.push(added);
      return true;
    }
    let changed = false;
    if (existing.status !== condition.status) {
      existing.status = condition.status;
      existing.lastTransitionTime = given ?? now();
      changed = true;
    }
    if (existing.reason !== condition.reason) {
      existing.reason = condition.reason;
      changed = true;
    }
    if (existing.message !== message) {
      existing.message = message;
      changed = true;
    }
    if (existing.observedGeneration !== observedGeneration) {
      if (observedGeneration === undefined) delete existing.observedGeneration;
      else existing.observedGeneration = observedGeneration;
      changed = true;
    }
    return changed;
  }

  /** The condition of this type, or `undefined`. */
  getCondition(type: string): Condition | undefined {
    const found = this.#conditions.find((c) => c.type === type);
    return found && copy(found);
  }

  /** Removes the condition of this type; returns whether there was one. */
  removeCondition(type: string): boolean {
    const index = this.#conditions.findIndex((c) => c.type === type);
    if (index < 0) return false;
    this.#conditions.splice(index, 1);
    return true;
  }

  /** Whether the condition of this type exists with status `True`. */
  isTrue(type: string): boolean {
    return this.#conditions.some((c) => c.type === type && c.status === 'True');
  }

  /** All conditions, in a stable order (existing ones first, new types appended). */
  conditions(): Condition[] {
    return this.#conditions.map(copy);
  }

  /** Whether the conditions differ from the parent's `status.conditions` at the start. */
  changed(): boolean {
    return !sameConditions(this.#conditions, this.#initial);
  }

  /** Conditions whose status changed during this conduct (including new ones). */
  transitions(): ConditionTransition[] {
    return conditionTransitions(this.#initial, this.#conditions);
  }
}

/**
 * The State of the conduct that `ctx` belongs to (the original's `conductor.FetchState`).
 *
 * @throws {@link StateNotFoundError} outside a conduct.
 * @example
 * ```ts
 * fetchState(ctx).addCondition({ type: 'PodReconciled', status: 'True', reason: 'PodsReconciled' });
 * ```
 */
export function fetchState(ctx: Context): State {
  const state = ctx.value(STATE);
  if (!state) throw new StateNotFoundError();
  return state;
}
