// A custom resource with many kinds of constraints, for the CRD generator's tests, and a
// small operator for it (a ConfigMap per Gizmo, with narrowed verbs and a @Uses kind) for
// the RBAC generator's tests.
import 'reflect-metadata';
import { V1ConfigMap, V1Namespace, type V1ObjectMeta } from '@kubernetes/client-node';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsDate, IsEnum, IsIn, IsInt, IsNotEmpty, IsNumber, IsObject,
  IsOptional, IsPositive, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength, ValidateNested,
} from 'class-validator';
import { Client, Context, fetchState, type Condition, type Reconciler, type Result } from '../../lib/index.js';
import { Owns, Parent, Reconciles, Resource, Uses } from '../../decorators/index.js';
import { Schema } from '../../decorators/index.js';

export enum GizmoTier { Bronze = 'bronze', Silver = 'silver', Gold = 'gold' }

export class GizmoPort {
  @Matches(/^[a-z]([-a-z0-9]*[a-z0-9])?$/) @MaxLength(15) name!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
  @IsOptional() @IsIn(['TCP', 'UDP']) protocol?: string;
}

export class GizmoOwner {
  // Two patterns: one goes to `pattern`, the other to `allOf`.
  @IsString() @IsNotEmpty() @Matches(/^[a-z]/) @Matches(/[a-z]$/) team!: string;
  @IsOptional() @IsUUID() ticket?: string;
}

// A rule across fields, which no class-validator decorator expresses: a CEL rule through @Schema.
@Schema({ 'x-kubernetes-validations': [{ rule: "self.replicas <= 3 || (has(self.tier) && self.tier == 'gold')", message: 'more than 3 replicas need the gold tier' }] })
export class GizmoSpec {
  // The pattern of the static-site sample's image (escaped '/' in a class, as JS writes it).
  // eslint-disable-next-line no-useless-escape -- the escaped '/' is part of the generated pattern the tests compare
  @IsString() @Matches(/^[a-z0-9]+([._\/:@-][a-z0-9]+)*$/) @MaxLength(100) image!: string;
  @IsInt() @Min(1) @Max(5) replicas!: number;
  @IsOptional() @IsEnum(GizmoTier) tier?: GizmoTier;
  @IsOptional() @IsArray() @ArrayMaxSize(3) @ArrayUnique() @IsString({ each: true }) @MinLength(1, { each: true })
  @Matches(/^[a-z0-9-]+$/i, { each: true }) tags?: string[];
  @IsOptional() @ValidateNested({ each: true }) @Type(() => GizmoPort) @ArrayMinSize(1) ports?: GizmoPort[];
  @IsOptional() @ValidateNested() owner?: GizmoOwner;
  @IsOptional() @IsBoolean() paused?: boolean;
  @IsOptional() @IsNumber() @IsPositive() @Max(1) ratio?: number;
  @IsOptional() @IsObject() labels?: Record<string, string>;
  @IsOptional() @IsDate() @Type(() => Date) notAfter?: Date;
}

@Resource({ group: 'generate.maestro.dev', version: 'v1alpha1', kind: 'Gizmo', shortNames: ['gz'] })
export class Gizmo {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @ValidateNested() spec!: GizmoSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

/** A valid Gizmo spec (tests spread changes over it). */
export const validGizmoSpec = (): Record<string, unknown> => ({
  image: 'registry.example.com/team/app:1.2.3',
  replicas: 2,
  tier: 'gold',
  tags: ['a', 'B-2'],
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  owner: { team: 'platform', ticket: '0b6e5c1e-3f0a-4c57-9a43-2a4f0c5d8e21' },
  paused: false,
  ratio: 0.5,
  labels: { anything: 'goes', nested: 'too' },
  notAfter: '2030-01-01T00:00:00Z',
});

/** A Gizmo object to create. */
export function gizmo(namespace: string, name: string, spec: Record<string, unknown> = validGizmoSpec()): Gizmo {
  return { apiVersion: 'generate.maestro.dev/v1alpha1', kind: 'Gizmo', metadata: { name, namespace }, spec: spec as unknown as GizmoSpec };
}

/** Applies a ConfigMap per Gizmo (no update or delete: apply is a patch) with its namespace's UID, read through @Uses. */
@Parent(Gizmo) @Reconciles(10) @Owns(V1ConfigMap, { verbs: ['get', 'list', 'watch', 'create', 'patch'] }) @Uses(V1Namespace, { verbs: ['get'] })
export class GizmoConfigMap implements Reconciler<Gizmo> {
  async reconcile(_ctx: Context, client: Client, gizmo: Gizmo): Promise<Result> {
    const namespace = await client.get(V1Namespace, { name: gizmo.metadata!.namespace! });
    await client.apply<V1ConfigMap>({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: `${gizmo.metadata!.name!}-gizmo` },
      data: { image: gizmo.spec.image, replicas: String(gizmo.spec.replicas), namespaceUID: namespace.metadata!.uid! },
    });
    return {};
  }
}

@Parent(Gizmo) @Reconciles(20)
export class GizmoReady implements Reconciler<Gizmo> {
  async reconcile(ctx: Context, _client: Client, gizmo: Gizmo): Promise<Result> {
    fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Reconciled', message: `${gizmo.spec.replicas} replicas of ${gizmo.spec.image}` });
    return {};
  }
}

export const gizmoComponents = [GizmoConfigMap, GizmoReady];
