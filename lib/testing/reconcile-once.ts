/**
 * `reconcileOnce`: one reconcile of a parent through the runtime's pipeline, on a fake
 * client, in a unit test.
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import type { Condition, Result } from '../api/index.js';
import { Context } from '../context/index.js';
import { Registry, type ComponentClass } from '../declare/registry.js';
import { OperatorConfigurationError, buildSpecs, type ParentSpec } from '../declare/specs.js';
import type { EventRecorder, EventType } from '../events/index.js';
import { noopLogger, type Logger } from '../log/index.js';
import type { ResourceClass } from '../resources/index.js';
import { ReconcileScope, planInjection } from '../runtime/injection.js';
import { ReconcilePipeline } from '../runtime/pipeline.js';
import { readConditions } from '../state/conditions.js';
import { FakeClient } from './fake-client.js';

/** An Event the pipeline recorded. */
export interface RecordedEvent {
  type: EventType;
  reason: string;
  message: string;
  /** `namespace/name` (or `name`) of the object it is about. */
  object: string;
}

/** Options of {@link reconcileOnce}. */
export interface ReconcileOnceOptions {
  /** The store to reconcile against (default: a new {@link FakeClient}); the parent is created in it when missing. */
  client?: FakeClient;
  /** Where the declarations are (default: `Registry.default`). */
  registry?: Registry;
  /** The component classes, when given a parent class (default: every component of the registry). */
  components?: ComponentClass[];
  /** Where the components' own dependencies are registered (default: a child of tsyringe's global container). */
  container?: DependencyContainer;
  /** The reconcile's context (default: background): cancel it to see how reconcilers react. */
  ctx?: Context;
  logger?: Logger;
}

/** What one reconcile did. */
export interface ReconcileOnceResult<P extends KubernetesObject> {
  /** What the steps asked for; `undefined` when the reconcile failed. */
  result: Result | undefined;
  /** What the reconcile failed with (a `ReconcilerError`, ...), if it did. */
  error: unknown;
  /** The parent as stored afterwards (`undefined` once deleted). */
  parent: P | undefined;
  /** The stored parent's `status.conditions`. */
  conditions: Condition[];
  /** The Events recorded, in order. */
  events: RecordedEvent[];
  /** The store, to look at the children. */
  client: FakeClient;
}

/**
 * Runs one reconcile of `parent` exactly as the operator runtime does (validation,
 * finalizers, the reconcilers in order with dependency injection, the status writer,
 * Events), on a {@link FakeClient} instead of a cluster. The parent is created in the
 * client's store first when it is not there (so it gets a uid, resourceVersion and
 * generation); what the reconcile wrote can be read back from the store.
 *
 * `spec` is a parent spec from `buildSpecs()`, or the parent class (its spec is built
 * from the registry's components).
 *
 * @throws `OperatorConfigurationError` when the declarations or their dependencies do not fit.
 * @example
 * ```ts
 * const { conditions, client } = await reconcileOnce(Greeting, greeting('hello'));
 * expect(conditions.find((c) => c.type === 'Ready')?.status).to.equal('True');
 * expect(client.objects(V1ConfigMap)).to.have.length(1);
 * ```
 */
export async function reconcileOnce<P extends KubernetesObject>(
  spec: ParentSpec<P> | ResourceClass<P>,
  parent: P,
  options: ReconcileOnceOptions = {},
): Promise<ReconcileOnceResult<P>> {
  const registry = options.registry ?? Registry.default;
  const parentSpec = typeof spec === 'function' ? specFor(spec, registry, options.components) : spec;
  const container = options.container ?? globalContainer.createChildContainer();
  const { plan, problems } = planInjection(parentSpec, registry, container);
  if (problems.length > 0) throw new OperatorConfigurationError(problems);
  const client = options.client ?? new FakeClient({ registry });
  const events: RecordedEvent[] = [];
  const recorder: EventRecorder = {
    event(obj, type, reason, message) {
      const { namespace, name } = obj.metadata ?? {};
      events.push({ type, reason, message, object: namespace ? `${namespace}/${name}` : String(name) });
    },
  };
  const logger = options.logger ?? noopLogger;
  const pipeline = new ReconcilePipeline(parentSpec, {
    scopes: (object, reconcileClient, log) => new ReconcileScope(container, parentSpec.type, plan, object, reconcileClient, log),
    readLive: (obj, signal) => client.readLive(obj, signal),
    events: recorder,
  });
  const key = { name: parent.metadata?.name ?? '', namespace: parent.metadata?.namespace };
  const stored = await client.get(parentSpec.type, key).catch(() => client.create(parent));
  const ctx = options.ctx ?? Context.background();
  let result: Result | undefined;
  let error: unknown;
  try {
    // As the controller does: the pipeline checks the object's limits, then copies it.
    result = await pipeline.reconcile({ ctx, parent: stored, client: client.forParent(stored, ctx.signal), logger });
  } catch (err) {
    error = err;
  }
  const after = await client.get(parentSpec.type, key).catch(() => undefined);
  return { result, error, parent: after, conditions: after ? readConditions(after) : [], events, client };
}

function specFor<P extends KubernetesObject>(type: ResourceClass<P>, registry: Registry, components: ComponentClass[] | undefined): ParentSpec<P> {
  const found = buildSpecs({ registry, components, checkWatchIndexes: false }).parents.find((p) => p.type === type);
  if (!found) throw new OperatorConfigurationError([`no component of the registry has @Parent(${type.name})`]);
  return found as ParentSpec<P>;
}
