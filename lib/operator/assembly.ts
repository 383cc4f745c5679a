import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Cleaner, Condition, HandlesStatusConditions, Reconciler, Result } from '../api/index.js';
import type { StaticBindable } from '../binder/index.js';
import { Client } from '../client/client.js';
import { forParent, type Conductor, type StatusConditionsHandler } from '../conductor/conductor.js';
import { Context } from '../context/index.js';
import { MaestroError, describeError } from '../errors/index.js';
import { Logger } from '../log/index.js';
import { resourceOf, tryResourceOf, type ResourceClass, type ResourceInfo } from '../resources/index.js';
import { State } from '../state/index.js';
import { SpecValidation, hasValidation } from '../validation/index.js';
import { boundBinders, componentMetadata, type OwnedKind, type UsedKind } from '../../decorators/metadata.js';
import { InjectedReconciler, ReconcileScope, type InjectableClass } from './scope.js';

/** The operator's classes do not fit together; `problems` lists every issue found. */
export class OperatorConfigurationError extends MaestroError {
  readonly code = 'OperatorConfiguration';
  constructor(readonly problems: string[]) {
    super(`the operator is misconfigured:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * The step that adds the parent's finalizers (with optimistic concurrency) before any
 * reconciler could create something that needs cleaning up. It updates the parent in
 * place, so later writes of the same reconcile use the new resourceVersion.
 */
export class EnsureFinalizers implements Reconciler<KubernetesObject> {
  constructor(readonly finalizers: readonly string[]) {}

  async reconcile(_ctx: Context, client: Client, parent: KubernetesObject): Promise<Result> {
    const metadata = parent.metadata ?? {};
    const missing = this.finalizers.filter((f) => !metadata.finalizers?.includes(f));
    if (missing.length === 0) return {};
    const updated = await client.patch(parent, { metadata: { resourceVersion: metadata.resourceVersion, finalizers: [...(metadata.finalizers ?? []), ...missing] } });
    parent.metadata = { ...metadata, finalizers: updated.metadata?.finalizers, resourceVersion: updated.metadata?.resourceVersion };
    return {};
  }
}

/** What one reconcile needs from the runtime. */
export interface ReconcileRequest {
  /** The client reconcilers receive (bound to the parent by the runtime). */
  client: Client;
  /** The reconcile's logger (with its object fields). */
  logger: Logger;
}

/**
 * Everything assembled for one parent type: its conductor (reconcilers in `@Reconciles`
 * order, preceded by spec validation when the parent class has constraints), its
 * finalizers, owned kinds and status-conditions handler.
 */
export class ParentConductor<P extends KubernetesObject = KubernetesObject> {
  /** @internal */
  constructor(
    readonly parentType: ResourceClass<P>,
    readonly resource: ResourceInfo,
    /** The conductor; its reconcilers resolve from a reconcile scope (see {@link conduct}). */
    readonly conductor: Conductor<P>,
    /** Cleanup steps, in declaration order, with their finalizer names. */
    readonly cleaners: ReadonlyArray<{ type: InjectableClass<Cleaner<P>>; finalizer: string }>,
    /** Owned (watched) child kinds. */
    readonly owns: readonly OwnedKind[],
    /** Kinds used without being owned (`@Uses`), for RBAC. */
    readonly uses: readonly UsedKind[],
    /** Whether a user `@StatusConditions` class handles conditions. */
    readonly customStatusHandler: boolean,
    private readonly container: DependencyContainer,
    private readonly binders: readonly StaticBindable<unknown>[],
  ) {}

  /** The finalizer names the runtime keeps on every parent. */
  get finalizers(): string[] {
    return this.cleaners.map((c) => c.finalizer);
  }

  private scope(parent: P, request: ReconcileRequest): ReconcileScope {
    return new ReconcileScope(this.container, this.parentType, parent, request.client, request.logger, this.binders);
  }

  /** Runs the conductor for `parent` in a fresh reconcile scope. */
  async conduct(ctx: Context, parent: P, request: ReconcileRequest): Promise<Result> {
    const scope = this.scope(parent, request);
    try {
      return await this.conductor.conduct(scope.bind(ctx), parent, { client: request.client });
    } finally {
      await scope.dispose();
    }
  }

  /** Runs the cleanup step of `finalizer` for `parent` in a fresh reconcile scope. */
  async cleanup(ctx: Context, parent: P, finalizer: string, request: ReconcileRequest): Promise<Result> {
    const cleaner = this.cleaners.find((c) => c.finalizer === finalizer);
    if (!cleaner) return {};
    const scope = this.scope(parent, request);
    try {
      const bound = scope.bind(ctx);
      return (await scope.resolve(cleaner.type, bound).cleanup(bound, request.client, parent)) ?? {};
    } finally {
      await scope.dispose();
    }
  }
}

/** Options of {@link assemble}. */
export interface AssembleOptions {
  /** The parent of every reconcile's child container (user registrations live here). */
  container: DependencyContainer;
  /** The default client of the conductors (each reconcile passes its own). */
  client: Client;
  logger: Logger;
  /** The base context of every conduct. */
  context?: Context;
  /** Persists conditions for parents without a `@StatusConditions` class. */
  defaultStatusHandler?: (parent: ResourceInfo) => StatusConditionsHandler<KubernetesObject> | undefined;
  /** Told the conditions of each conduct after they were persisted (e.g. to record Events for transitions). */
  observeConditions?: (parent: KubernetesObject, conditions: Condition[]) => void;
}

const PRIMITIVES: ReadonlySet<unknown> = new Set([Object, String, Number, Boolean, Symbol, Array, Function, Promise, undefined]);

function tokenName(token: unknown): string {
  if (typeof token === 'function') return token.name || 'anonymous class';
  if (typeof token === 'symbol') return token.description ?? token.toString();
  return String(token);
}

/**
 * Checks that tsyringe can build `type`: every constructor parameter must be a
 * per-reconcile value, a registered token, or an injectable class (recursively).
 */
function checkInjectable(type: Function, provided: ReadonlySet<unknown>, container: DependencyContainer, problems: string[], seen = new Set<Function>()): void {
  if (seen.has(type)) return;
  seen.add(type);
  const paramTypes = Reflect.getMetadata('design:paramtypes', type) as unknown[] | undefined;
  if (type.length > 0 && !paramTypes) {
    problems.push(`${type.name} is not injectable: its constructor takes ${type.length} parameter(s) but has no type metadata (decorate it, and compile with tsc and emitDecoratorMetadata: esbuild-based runners drop the metadata)`);
    return;
  }
  const overrides = (Reflect.getOwnMetadata('injectionTokens', type) ?? {}) as Record<string, unknown>;
  const params = [...(paramTypes ?? [])];
  for (const [index, override] of Object.entries(overrides)) {
    params[Number(index)] = typeof override === 'object' && override !== null && 'token' in override ? (override as { token: unknown }).token : override;
  }
  params.forEach((param, index) => {
    const where = `${type.name} constructor parameter #${index} (${tokenName(param)})`;
    if (provided.has(param) || container.isRegistered(param as InjectionToken<unknown>, true)) return;
    if (PRIMITIVES.has(param)) {
      problems.push(`${where} has no provider: interfaces and primitive types carry no runtime type; inject a class, or use @inject(token) / @Bound(binder)`);
      return;
    }
    if (typeof param !== 'function') {
      problems.push(`${where} has no provider: register the token in the container passed to createOperator()`);
      return;
    }
    checkInjectable(param, provided, container, problems, seen);
  });
}

const roleOf = (type: Function) => {
  const m = componentMetadata(type);
  if (!m) return undefined;
  if (m.order !== undefined) return `@Reconciles(${m.order})`;
  if (m.finalizer !== undefined) return `@Finalizer('${m.finalizer}')`;
  if (m.statusConditions) return '@StatusConditions()';
  return undefined;
};

/**
 * Groups decorated classes by parent type and builds one {@link ParentConductor} per
 * parent, checking everything that can be checked before the first reconcile.
 *
 * @throws {@link OperatorConfigurationError} listing every problem found.
 */
export function assemble(classes: readonly Function[], options: AssembleOptions): ParentConductor[] {
  const problems: string[] = [];
  const byParent = new Map<ResourceClass, Function[]>();
  for (const type of classes) {
    if (typeof type !== 'function') {
      problems.push(`${String(type)} is not a class`);
      continue;
    }
    const metadata = componentMetadata(type);
    const role = roleOf(type);
    if (!metadata || !role) {
      problems.push(`${type.name} is not a Maestro component: decorate it with @Parent(Type) and @Reconciles(order), @Finalizer(name) or @StatusConditions()`);
      continue;
    }
    if (!metadata.parent) {
      problems.push(`${type.name} has ${role} but no @Parent(Type)`);
      continue;
    }
    const group = byParent.get(metadata.parent) ?? [];
    group.push(type);
    byParent.set(metadata.parent, group);
  }

  const binders = boundBinders();
  const assembled: ParentConductor[] = [];
  for (const [parentType, members] of byParent) {
    let resource: ResourceInfo;
    try {
      resource = resourceOf(parentType);
    } catch (err) {
      problems.push(`parent ${parentType.name} of ${members.map((m) => m.name).join(', ')}: ${describeError(err)}`);
      continue;
    }
    const provided = new Set<unknown>([Context, State, Logger, Client, parentType, ...binders.map((b) => b.token)]);
    const reconcilers: Array<{ type: InjectableClass<Reconciler<KubernetesObject>>; order: number }> = [];
    const cleaners: Array<{ type: InjectableClass<Cleaner<KubernetesObject>>; finalizer: string }> = [];
    const handlers: Function[] = [];
    const owns = new Map<Function, OwnedKind>();
    const uses: UsedKind[] = [];
    for (const type of members) {
      const metadata = componentMetadata(type)!;
      const prototype = type.prototype as Record<string, unknown>;
      if (metadata.order !== undefined) {
        const clash = reconcilers.find((r) => r.order === metadata.order);
        if (clash) problems.push(`${clash.type.name} and ${type.name} both reconcile ${parentType.name} at order ${metadata.order}; give each a distinct @Reconciles order`);
        if (typeof prototype.reconcile !== 'function') problems.push(`${type.name} has @Reconciles but no reconcile(ctx, client, parent) method`);
        reconcilers.push({ type: type as InjectableClass<Reconciler<KubernetesObject>>, order: metadata.order });
      }
      if (metadata.finalizer !== undefined) {
        if (cleaners.some((c) => c.finalizer === metadata.finalizer)) problems.push(`two cleanup classes of ${parentType.name} use the finalizer '${metadata.finalizer}'`);
        if (typeof prototype.cleanup !== 'function') problems.push(`${type.name} has @Finalizer but no cleanup(ctx, client, parent) method`);
        cleaners.push({ type: type as InjectableClass<Cleaner<KubernetesObject>>, finalizer: metadata.finalizer });
      }
      if (metadata.statusConditions) {
        if (typeof prototype.handleStatusConditions !== 'function') problems.push(`${type.name} has @StatusConditions but no handleStatusConditions(ctx, client, parent, conditions) method`);
        handlers.push(type);
      }
      for (const owned of metadata.owns) {
        if (!tryResourceOf(owned.type)) problems.push(`${type.name} @Owns(${owned.type.name}), which is not a known Kubernetes resource: decorate it with @Resource`);
        else if (!owns.has(owned.type)) owns.set(owned.type, owned);
      }
      for (const used of metadata.uses) {
        if (!tryResourceOf(used.type)) problems.push(`${type.name} @Uses(${used.type.name}), which is not a known Kubernetes resource: decorate it with @Resource`);
        else uses.push(used);
      }
      checkInjectable(type, provided, options.container, problems);
    }
    if (handlers.length > 1) problems.push(`${parentType.name} has more than one @StatusConditions class: ${handlers.map((h) => h.name).join(', ')}`);
    reconcilers.sort((a, b) => a.order - b.order);

    const handlerType = handlers[0] as InjectableClass<HandlesStatusConditions<KubernetesObject>> | undefined;
    const persist: StatusConditionsHandler<KubernetesObject> | undefined = handlerType
      ? async (ctx, client, parent, conditions) => {
        const scope = ReconcileScope.from(ctx);
        if (!scope) throw new OperatorConfigurationError([`${handlerType.name} runs only inside the operator's reconcile scope`]);
        await scope.resolve(handlerType, ctx).handleStatusConditions(ctx, client, parent, conditions);
      }
      : options.defaultStatusHandler?.(resource);
    const observe = options.observeConditions;
    const handler: StatusConditionsHandler<KubernetesObject> | undefined = persist && observe
      ? async (ctx, client, parent, conditions) => {
        await persist(ctx, client, parent, conditions);
        observe(parent, conditions);
      }
      : persist;
    const builder = forParent(parentType as ResourceClass<KubernetesObject>)
      .withClient(options.client)
      .withLogger(options.logger)
      .withContext(options.context ?? Context.background());
    if (handler) builder.withStatusConditionsHandler(handler);
    const conductor = builder.build();
    if (hasValidation(parentType)) conductor.register(new SpecValidation(parentType), { name: 'SpecValidation' });
    // After validation (an invalid object gets no finalizer), before anything that needs cleaning up.
    if (cleaners.length > 0) conductor.register(new EnsureFinalizers(cleaners.map((c) => c.finalizer)), { name: 'EnsureFinalizers' });
    for (const r of reconcilers) conductor.register(new InjectedReconciler(r.type), { name: r.type.name });
    assembled.push(new ParentConductor(parentType, resource, conductor, cleaners, [...owns.values()], uses, handlerType !== undefined, options.container, binders));
  }
  if (problems.length > 0) throw new OperatorConfigurationError(problems);
  return assembled;
}
