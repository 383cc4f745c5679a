// Operators for the integration tests of related watches: Databases reference a Secret by
// name (spec.secretName); a Secret's events reach exactly the Databases that name it,
// through an index. Each call builds the components in a registry of its own, so tests can
// give the Secret watch different options (selectors, filters, metadata only).
import 'reflect-metadata';
import { V1Secret, V1Service, type V1CustomResourceDefinition, type V1ObjectMeta } from '@kubernetes/client-node';
import { IsDefined, IsOptional, IsString, ValidateNested } from 'class-validator';
import { decoratorsFor } from '../../decorators/index.js';
import { generateCRD } from '../../lib/generate/index.js';
import { Client, Context, fetchState, isNotFound, type Condition, type Reconciler, type Result } from '../../lib/index.js';
import { Registry, type ComponentClass } from '../../lib/runtime/index.js';
import { byIndex, type WatchesOptions } from '../../lib/watch/index.js';

export class DatabaseSpec {
  /** The Secret (same namespace) with the credentials. */
  @IsString() secretName!: string;
  /** A Service the reconciler reads (not cached by the operator): for read-through tests. */
  @IsOptional() @IsString() probeService?: string;
}

export class Database {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: DatabaseSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

export const DATABASE = { group: 'watch.it.maestro.dev', version: 'v1', kind: 'Database' } as const;

/** Reconciles per `namespace/name`, across operators of the process. */
export const databaseLedger = new Map<string, number>();

/** The Database CRD, generated from the class. */
export function databaseCRD(): V1CustomResourceDefinition {
  const registry = new Registry();
  decoratorsFor(registry).Resource(DATABASE)(Database);
  return generateCRD(Database, { registry });
}

/**
 * The Database operator's components in a new registry: one reconciler that counts its
 * reconciles, reads the referenced Secret from the cache and reports `Ready` (`SecretFound`,
 * or False with `SecretNotFound`), watching Secrets by the `spec.secretName` index.
 */
export function databaseOperator(secretWatch: WatchesOptions<V1Secret> = {}): { registry: Registry; components: ComponentClass[] } {
  const registry = new Registry();
  const { Resource, Parent, Reconciles, Watches, Index } = decoratorsFor(registry);
  Resource(DATABASE)(Database);

  @Parent(Database) @Reconciles(10)
  @Index(Database, 'spec.secretName', (db) => [db.spec.secretName])
  @Watches(V1Secret, byIndex('spec.secretName'), secretWatch)
  class ConnectDatabase implements Reconciler<Database> {
    async reconcile(ctx: Context, client: Client, db: Database): Promise<Result> {
      const key = `${db.metadata!.namespace}/${db.metadata!.name}`;
      databaseLedger.set(key, (databaseLedger.get(key) ?? 0) + 1);
      const state = fetchState(ctx);
      if (db.spec.probeService) await client.get(V1Service, { name: db.spec.probeService });
      try {
        const secret = await client.getMetadata(V1Secret, { name: db.spec.secretName });
        state.addCondition({ type: 'Ready', status: 'True', reason: 'SecretFound', message: `secret ${db.spec.secretName} at resourceVersion ${secret.metadata.resourceVersion}` });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        state.addCondition({ type: 'Ready', status: 'False', reason: 'SecretNotFound', message: `secret ${db.spec.secretName} not found` });
      }
      return {};
    }
  }
  return { registry, components: [ConnectDatabase] };
}

export const database = (namespace: string, name: string, secretName: string, extra: Partial<DatabaseSpec> = {}): Database => ({
  apiVersion: `${DATABASE.group}/${DATABASE.version}`, kind: DATABASE.kind, metadata: { name, namespace }, spec: { secretName, ...extra },
});

export const secret = (namespace: string, name: string, password: string, labels: Record<string, string> = {}): V1Secret => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels }, stringData: { password },
});
