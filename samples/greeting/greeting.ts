import 'reflect-metadata';
import { V1ConfigMap, type V1ObjectMeta } from '@kubernetes/client-node';
import { IsDefined, IsInt, IsString, Max, Min, ValidateNested } from 'class-validator';
import { Client, Context, Owns, Parent, Reconciles, Resource, fetchState, type Reconciler, type Result } from 'maestro-operator';

export class GreetingSpec {
  @IsString() message!: string;
  @IsInt() @Min(1) @Max(5) copies!: number;
}

@Resource({ group: 'example.com', version: 'v1', kind: 'Greeting' })
export class Greeting {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: GreetingSpec;
}

@Parent(Greeting) @Reconciles(10) @Owns(V1ConfigMap)
export class GreetingReconciler implements Reconciler<Greeting> {
  async reconcile(ctx: Context, client: Client, greeting: Greeting): Promise<Result> {
    await client.apply<V1ConfigMap>({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: greeting.metadata!.name! },
      data: { text: greeting.spec.message.repeat(greeting.spec.copies) },
    });
    fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Greeted' });
    return {};
  }
}
