// An operator for the RBAC audit test that uses every kind of declaration the RBAC generator
// reads: a parent with a finalizer and the default status writer, an @Owns kind with the
// default verbs (apply), an @Owns kind with a declared extra verb (delete), and an @Uses kind
// read from the API server (not watched). Tests steer it through the spec.
import 'reflect-metadata';
import { V1ConfigMap, V1Secret, V1Service, type V1ObjectMeta } from '@kubernetes/client-node';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Client, Context, fetchState, isNotFound, type Cleaner, type Condition, type Reconciler, type Result } from '../../lib/index.js';
import { Finalizer, Owns, Parent, Reconciles, Resource, Uses } from '../../decorators/index.js';

export class VaultSpec {
  @IsString() @MaxLength(100) message!: string;
  /** A Secret in the Vault's namespace whose key names go into the ConfigMap (read through @Uses). */
  @IsOptional() @IsString() @Matches(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/) secretName?: string;
  /** Whether a Service exists for the Vault (deleted again when false: the declared `delete`). */
  @IsOptional() @IsBoolean() expose?: boolean;
  /** Makes the first step throw (a failure that repeats). */
  @IsOptional() @IsBoolean() fail?: boolean;
  /** Slows the last step down, so tests can act while a reconcile is in flight. */
  @IsOptional() @IsInt() @Min(0) @Max(30_000) delayMs?: number;
}

@Resource({ group: 'audit.maestro.dev', version: 'v1', kind: 'Vault' })
export class Vault {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @ValidateNested() spec!: VaultSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

@Parent(Vault) @Reconciles(10) @Owns(V1ConfigMap) @Uses(V1Secret, { verbs: ['get'] })
export class VaultConfig implements Reconciler<Vault> {
  async reconcile(_ctx: Context, client: Client, vault: Vault): Promise<Result> {
    if (vault.spec.fail) throw new Error('the vault is sealed');
    let keys = '';
    if (vault.spec.secretName) {
      // Secrets are not watched: this read goes to the API server (a `get`, declared with @Uses).
      const secret = await client.get(V1Secret, { namespace: vault.metadata!.namespace!, name: vault.spec.secretName });
      keys = Object.keys(secret.data ?? {}).sort().join(',');
    }
    await client.apply<V1ConfigMap>({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: `${vault.metadata!.name!}-config` },
      data: { message: vault.spec.message, keys },
    });
    return {};
  }
}

@Parent(Vault) @Reconciles(20) @Owns(V1Service, { verbs: ['create', 'patch', 'delete'] })
export class VaultService implements Reconciler<Vault> {
  async reconcile(_ctx: Context, client: Client, vault: Vault): Promise<Result> {
    const name = vault.metadata!.name!;
    if (vault.spec.expose) {
      await client.apply<V1Service>({
        apiVersion: 'v1', kind: 'Service',
        metadata: { name },
        spec: { selector: { vault: name }, ports: [{ name: 'http', port: 80 }] },
      });
      return {};
    }
    try {
      // Services are watched (owned): this read is served by the cache.
      const existing = await client.get(V1Service, { namespace: vault.metadata!.namespace!, name });
      await client.delete(existing);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return {};
  }
}

@Parent(Vault) @Reconciles(30)
export class VaultReady implements Reconciler<Vault> {
  async reconcile(ctx: Context, _client: Client, vault: Vault): Promise<Result> {
    if (vault.spec.delayMs) await new Promise((resolve) => setTimeout(resolve, vault.spec.delayMs));
    fetchState(ctx).addCondition({ type: 'Ready', status: 'True', reason: 'Reconciled', message: `message is ${vault.spec.message}` });
    return {};
  }
}

@Parent(Vault) @Finalizer('audit.maestro.dev/cleanup')
export class VaultCleanup implements Cleaner<Vault> {
  static readonly cleaned: string[] = [];
  async cleanup(_ctx: Context, _client: Client, vault: Vault): Promise<Result> {
    VaultCleanup.cleaned.push(`${vault.metadata!.namespace}/${vault.metadata!.name}`);
    return {};
  }
}

export const vaultComponents = [VaultConfig, VaultService, VaultReady, VaultCleanup];

/** A Vault object to create. */
export function vault(namespace: string, name: string, spec: VaultSpec): Vault {
  return { apiVersion: 'audit.maestro.dev/v1', kind: 'Vault', metadata: { name, namespace }, spec };
}
