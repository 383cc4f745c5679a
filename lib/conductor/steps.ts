/**
 * The step runner shared by the {@link Conductor} and the operator runtime's reconcile
 * pipeline: steps run in order against one State, results merge, and the first failure
 * stops the run and becomes the error condition.
 *
 * @module
 */
import type { Result } from '../api/index.js';
import { reasonOf } from '../api/names.js';
import type { Context } from '../context/index.js';
import { describeError } from '../errors/index.js';
import { truncateConditionMessage } from '../limits/truncate.js';
import type { Logger } from '../log/index.js';
import type { State } from '../state/index.js';
import { InvalidResultError, ReconcilerError } from './errors.js';

/** One step of a run: a name for errors and logs, and what it does with the step's context. */
export interface Step {
  readonly name: string;
  run(ctx: Context): Promise<unknown>;
}

/** Options of {@link runSteps}. */
export interface RunStepsOptions {
  /** The condition set to `False` when a step fails, or `null` for none. */
  errorConditionType: string | null;
  logger: Logger;
}

const EMPTY: Result = Object.freeze({});

function checkResult(value: unknown, step: string): Result {
  if (value === undefined || value === null) return EMPTY;
  if (typeof value !== 'object') {
    throw new InvalidResultError(`reconciler ${step} returned ${typeof value}; expected a Result such as {} or { requeueAfter: 5000 }`);
  }
  const { requeue, requeueAfter } = value as Result;
  if (requeue !== undefined && typeof requeue !== 'boolean') {
    throw new InvalidResultError(`reconciler ${step} returned requeue=${String(requeue)}; expected a boolean`);
  }
  if (requeueAfter !== undefined && (typeof requeueAfter !== 'number' || !Number.isFinite(requeueAfter) || requeueAfter < 0)) {
    throw new InvalidResultError(`reconciler ${step} returned requeueAfter=${String(requeueAfter)}; expected milliseconds >= 0`);
  }
  return value;
}

/**
 * Combines the results of several reconcilers: any `requeue` requeues, and the
 * smallest positive `requeueAfter` wins (0 means "not set", as in controller-runtime).
 */
export function mergeResults(a: Result, b: Result): Result {
  const requeue = a.requeue === true || b.requeue === true;
  const after = [a.requeueAfter, b.requeueAfter].filter((ms): ms is number => ms !== undefined && ms > 0);
  const merged: Result = {};
  if (requeue) merged.requeue = true;
  if (after.length > 0) merged.requeueAfter = Math.min(...after);
  return merged;
}

/**
 * Adds the failure condition of a step: `<errorConditionType>=False` with the error's own
 * reason (a `TerminalError`'s, an API error's) and message, or reason `ReconcileError`
 * with the step's name in the message.
 */
export function recordFailure(state: State, errorConditionType: string | null, step: string, cause: unknown): void {
  if (errorConditionType === null) return;
  const ownReason = reasonOf(cause);
  // An error with its own reason describes itself; others get the step's name so the
  // condition says where it failed.
  state.addCondition({
    type: errorConditionType,
    status: 'False',
    reason: ownReason ?? 'ReconcileError',
    message: truncateConditionMessage(ownReason ? describeError(cause) : `${step}: ${describeError(cause)}`),
  });
}

/**
 * Runs `steps` strictly one after another with the context the State holds (so a step's
 * `updateContext` reaches the next), merging their results. A cancelled or expired
 * context starts no further step and rejects with its error. The first step that throws
 * stops the run: its failure condition is recorded in the State and the run rejects with
 * a {@link ReconcilerError}.
 */
export async function runSteps(state: State, steps: readonly Step[], options: RunStepsOptions): Promise<Result> {
  let result: Result = EMPTY;
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index]!;
    const stepContext = state.context;
    stepContext.throwIfAborted();
    try {
      result = mergeResults(result, checkResult(await step.run(stepContext), step.name));
    } catch (cause) {
      // Cancellation is not a failure of the step: report it as such.
      const aborted = state.context.err() ?? stepContext.err();
      if (aborted) throw aborted;
      const error = new ReconcilerError(step.name, index, cause);
      // The caller gets the error (the runtime logs it once, with its retry decision).
      options.logger.debug({ err: cause, reconciler: step.name }, error.message);
      recordFailure(state, options.errorConditionType, step.name, cause);
      throw error;
    }
  }
  return result;
}
