// A small operator used by the runtime's integration tests: a Widget custom resource
// whose reconcilers apply a ConfigMap and a Service and report Ready, with a finalizer.
// Tests steer it through the spec: message 'fail' makes it throw, delayMs slows it down.
import 'reflect-metadata';
import { V1ConfigMap, V1Service, type V1CustomResourceDefinition, type V1ObjectMeta } from '@kubernetes/client-node';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { singleton } from 'tsyringe';
import {
  Client, Context, fetchState, type Cleaner, type Condition, type Reconciler, type Result,
} from '../../lib/index.js';
import { Finalizer, Owns, Parent, Reconciles, Resource } from '../../decorators/index.js';

export class WidgetSpec {
  @IsString() @MaxLength(100) message!: string;
  @IsOptional() @IsInt() @Min(0) @Max(60_000) delayMs?: number;
}

@Resource({ group: 'it.maestro.dev', version: 'v1', kind: 'Widget', shortNames: ['wd'] })
export class Widget {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @ValidateNested() spec!: WidgetSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

/** What the operator did, for tests to assert on (one per process). */
@singleton()
export class WidgetLedger {
  readonly reconciles = new Map<string, number[]>();
  readonly cleanups = new Map<string, number>();
  count(key: string): number {
    return this.reconciles.get(key)?.length ?? 0;
  }
}

const keyOf = (w: Widget) => `${w.metadata!.namespace}/${w.metadata!.name}`;

@Parent(Widget) @Reconciles(10) @Owns(V1ConfigMap)
export class WidgetConfigMap implements Reconciler<Widget> {
  constructor(private readonly ledger: WidgetLedger) {}
  async reconcile(_ctx: Context, client: Client, widget: Widget): Promise<Result> {
    const key = keyOf(widget);
    this.ledger.reconciles.set(key, [...(this.ledger.reconciles.get(key) ?? []), Date.now()]);
    if (widget.spec.message === 'fail') throw new Error(`boom for ${widget.metadata!.name}`);
    await client.apply<V1ConfigMap>({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: widget.metadata!.name!, labels: { 'app.kubernetes.io/managed-by': 'widget-operator' } },
      data: { message: widget.spec.message },
    });
    return {};
  }
}

@Parent(Widget) @Reconciles(20) @Owns(V1Service)
export class WidgetService implements Reconciler<Widget> {
  async reconcile(_ctx: Context, client: Client, widget: Widget): Promise<Result> {
    await client.apply<V1Service>({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: widget.metadata!.name! },
      spec: { selector: { app: widget.metadata!.name! }, ports: [{ name: 'http', port: 80 }] },
    });
    return {};
  }
}

@Parent(Widget) @Reconciles(30)
export class WidgetReady implements Reconciler<Widget> {
  async reconcile(ctx: Context, _client: Client, widget: Widget): Promise<Result> {
    // A deliberately slow step, so tests can act while a reconcile is in flight.
    if (widget.spec.delayMs) await new Promise((resolve) => setTimeout(resolve, widget.spec.delayMs));
    fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Reconciled', message: `message is ${widget.spec.message}` });
    return {};
  }
}

@Parent(Widget) @Finalizer('it.maestro.dev/cleanup')
export class WidgetCleanup implements Cleaner<Widget> {
  constructor(private readonly ledger: WidgetLedger) {}
  async cleanup(_ctx: Context, _client: Client, widget: Widget): Promise<Result> {
    this.ledger.cleanups.set(keyOf(widget), (this.ledger.cleanups.get(keyOf(widget)) ?? 0) + 1);
    return {};
  }
}

export const widgetReconcilers = [WidgetConfigMap, WidgetService, WidgetReady, WidgetCleanup];

/** The Widget CRD (hand-written, so the runtime tests do not depend on the generator). */
export function widgetCRD(): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.it.maestro.dev' },
    spec: {
      group: 'it.maestro.dev',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
      versions: [{
        name: 'v1', served: true, storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              // Deliberately loose, so tests can send what the operator's own validation must catch.
              spec: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
              status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
            },
          },
        },
      }],
    },
  };
}

/** A Widget object to create. */
export function widget(namespace: string, name: string, spec: WidgetSpec = { message: 'hello' }): Widget {
  return { apiVersion: 'it.maestro.dev/v1', kind: 'Widget', metadata: { name, namespace }, spec };
}
