import { MaestroError } from '../errors/index.js';

/**
 * A typed key for values carried by a {@link Context}. Keys compare by identity, so two
 * keys with the same name never see each other's values.
 *
 * @example
 * ```ts
 * const RequestId = new ContextKey<string>('requestId');
 * const ctx = Context.background().withValue(RequestId, 'abc');
 * ctx.value(RequestId); // 'abc'
 * ```
 */
export class ContextKey<T> {
  /** Brands the key with its value type; never set. */
  declare readonly __type?: T;
  constructor(readonly name: string) {}
  toString(): string {
    return `ContextKey(${this.name})`;
  }
}

/** Thrown when work is attempted on a context that was cancelled. */
export class ContextCanceledError extends MaestroError {
  readonly code = 'ContextCanceled';
  constructor(options?: { cause?: unknown }) {
    super('context canceled', options);
  }
}

/** Thrown when work is attempted on a context whose deadline passed. */
export class DeadlineExceededError extends MaestroError {
  readonly code = 'DeadlineExceeded';
  constructor(readonly deadline: number) {
    super(`context deadline exceeded (deadline ${new Date(deadline).toISOString()})`);
  }
}

const neverAborted = new AbortController().signal;

interface Node {
  readonly parent: Node | undefined;
  readonly key: ContextKey<unknown>;
  readonly value: unknown;
}

/**
 * The TypeScript counterpart of Go's `context.Context`: an immutable carrier of typed
 * values, a cancellation signal and an optional deadline, passed to every reconciler.
 * Deriving a context never changes its parent; cancelling a parent cancels its children.
 *
 * @example
 * ```ts
 * const [ctx, cancel] = Context.background().withTimeout(5_000).withCancel();
 * await fetch(url, { signal: ctx.signal });
 * cancel();
 * ```
 */
export class Context {
  private static readonly root = new Context(undefined, neverAborted, undefined);

  private constructor(
    private readonly values: Node | undefined,
    /** Aborted when this context is cancelled or its deadline passes. Pass it to I/O. */
    readonly signal: AbortSignal,
    /** The deadline as epoch milliseconds, if any. */
    readonly deadline: number | undefined,
    private readonly fallback: Context | undefined = undefined,
  ) {}

  /** The empty context: no values, never cancelled, no deadline. */
  static background(): Context {
    return Context.root;
  }

  /** A child context that carries `value` under `key` (shadowing an earlier value of that key). */
  withValue<T>(key: ContextKey<T>, value: T): Context {
    return new Context({ parent: this.values, key, value }, this.signal, this.deadline, this.fallback);
  }

  /** The value bound to `key` in this context or its ancestors, or `undefined`. */
  value<T>(key: ContextKey<T>): T | undefined {
    for (let node = this.values; node; node = node.parent) {
      if (node.key === key) return node.value as T;
    }
    return this.fallback?.value(key);
  }

  /** A child context and the function that cancels it (and its descendants). */
  withCancel(): [Context, (reason?: unknown) => void] {
    const controller = new AbortController();
    const signal = this.signal === neverAborted ? controller.signal : AbortSignal.any([this.signal, controller.signal]);
    const ctx = new Context(this.values, signal, this.deadline, this.fallback);
    return [ctx, (reason?: unknown) => controller.abort(new ContextCanceledError({ cause: reason }))];
  }

  /** A child context cancelled when `signal` aborts (e.g. a process shutdown signal). */
  withSignal(signal: AbortSignal): Context {
    if (signal === this.signal) return this;
    const combined = this.signal === neverAborted ? signal : AbortSignal.any([this.signal, signal]);
    return new Context(this.values, combined, this.deadline, this.fallback);
  }

  /** A child context that expires `ms` milliseconds from now. */
  withTimeout(ms: number): Context {
    return this.withDeadline(Date.now() + ms);
  }

  /** A child context that expires at `deadline` (a `Date` or epoch milliseconds); an earlier parent deadline wins. */
  withDeadline(deadline: Date | number): Context {
    const at = typeof deadline === 'number' ? deadline : deadline.getTime();
    if (!Number.isFinite(at)) throw new RangeError(`invalid deadline: ${String(deadline)}`);
    if (this.deadline !== undefined && this.deadline <= at) return this;
    // AbortSignal.timeout keeps no process alive and needs no clean-up.
    const timeout = AbortSignal.timeout(Math.max(0, at - Date.now()));
    const signal = this.signal === neverAborted ? timeout : AbortSignal.any([this.signal, timeout]);
    return new Context(this.values, signal, at, this.fallback);
  }

  /**
   * A context with this context's values that falls back to `base`'s values, ends when
   * either ends, and has the earlier of the two deadlines. Used to combine an
   * operator-wide context with a per-call one.
   */
  merge(base: Context): Context {
    if (base === Context.root || base === this) return this;
    const signal = base.signal === neverAborted ? this.signal
      : this.signal === neverAborted ? base.signal : AbortSignal.any([this.signal, base.signal]);
    const deadline = this.deadline === undefined ? base.deadline
      : base.deadline === undefined ? this.deadline : Math.min(this.deadline, base.deadline);
    const fallback = this.fallback ? this.fallback.merge(base) : base;
    return new Context(this.values, signal, deadline, fallback);
  }

  /** True once the context is cancelled or past its deadline. */
  get aborted(): boolean {
    return this.signal.aborted || (this.deadline !== undefined && Date.now() >= this.deadline);
  }

  /**
   * Why the context ended (Go's `ctx.Err()`): a {@link ContextCanceledError} or
   * {@link DeadlineExceededError}, or `undefined` while it is live.
   */
  err(): ContextCanceledError | DeadlineExceededError | undefined {
    if (this.signal.aborted) {
      const reason: unknown = this.signal.reason;
      if (reason instanceof ContextCanceledError || reason instanceof DeadlineExceededError) return reason;
      if (this.deadline !== undefined && reason instanceof DOMException && reason.name === 'TimeoutError') {
        return new DeadlineExceededError(this.deadline);
      }
      return new ContextCanceledError({ cause: reason });
    }
    if (this.deadline !== undefined && Date.now() >= this.deadline) return new DeadlineExceededError(this.deadline);
    return undefined;
  }

  /** Throws {@link Context.err} if the context has ended. */
  throwIfAborted(): void {
    const err = this.err();
    if (err) throw err;
  }
}
