// An in-memory Client double for unit tests of pure logic (the conductor does no I/O of
// its own). Integration tests use the real API server instead.
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  ApiError, Client, StatusClient, type JsonPatchOperation, type ListOptions, type ObjectKey, type ResourceClass,
} from '../../lib/index.js';
import { resourceOf } from '../../lib/declare/index.js';

type Stored = KubernetesObject & { status?: unknown; spec?: unknown };

const clone = <T>(value: T): T => structuredClone(value);

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete target[key];
    else if (typeof value === 'object' && !Array.isArray(value) && typeof target[key] === 'object' && target[key] !== null) {
      merge(target[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else target[key] = clone(value);
  }
  return target;
}

export class MemoryClient extends Client {
  readonly objects = new Map<string, Stored>();
  /** Every call, in order, as "verb kind/namespace/name". */
  readonly calls: string[] = [];
  private version = 0;

  private key(obj: KubernetesObject): string {
    const r = resourceOf(obj);
    return `${r.apiVersion}/${r.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  }

  private record(verb: string, obj: KubernetesObject): void {
    this.calls.push(`${verb} ${obj.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`);
  }

  private notFound(obj: KubernetesObject): ApiError {
    return new ApiError(404, `${obj.kind} "${obj.metadata?.name}" not found`, { reason: 'NotFound', code: 404 });
  }

  private store(obj: Stored, bumpGeneration: boolean): Stored {
    const stored = clone(obj);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.version) };
    if (bumpGeneration) stored.metadata.generation = (stored.metadata.generation ?? 0) + 1;
    this.objects.set(this.key(stored), stored);
    return clone(stored);
  }

  async get<T extends KubernetesObject>(type: ResourceClass<T>, key: ObjectKey): Promise<T> {
    const r = resourceOf(type);
    const probe = { apiVersion: r.apiVersion, kind: r.kind, metadata: { name: key.name, namespace: key.namespace } };
    this.record('get', probe);
    const found = this.objects.get(this.key(probe));
    if (!found) throw this.notFound(probe);
    return clone(found) as T;
  }

  async list<T extends KubernetesObject>(type: ResourceClass<T>, options: ListOptions = {}): Promise<T[]> {
    const r = resourceOf(type);
    this.calls.push(`list ${r.kind}/${options.namespace ?? ''}`);
    const labels = typeof options.labelSelector === 'object' ? options.labelSelector : undefined;
    return [...this.objects.values()]
      .filter((o) => o.apiVersion === r.apiVersion && o.kind === r.kind)
      .filter((o) => options.namespace === undefined || o.metadata?.namespace === options.namespace)
      .filter((o) => !labels || Object.entries(labels).every(([k, v]) => o.metadata?.labels?.[k] === v))
      .map((o) => clone(o) as T);
  }

  async create<T extends KubernetesObject>(obj: T): Promise<T> {
    this.record('create', obj);
    if (this.objects.has(this.key(obj))) throw new ApiError(409, 'already exists', { reason: 'AlreadyExists', code: 409 });
    return this.store(obj, true) as T;
  }

  async update<T extends KubernetesObject>(obj: T): Promise<T> {
    this.record('update', obj);
    const existing = this.objects.get(this.key(obj));
    if (!existing) throw this.notFound(obj);
    if (obj.metadata?.resourceVersion && obj.metadata.resourceVersion !== existing.metadata?.resourceVersion) {
      throw new ApiError(409, 'the object has been modified', { reason: 'Conflict', code: 409 });
    }
    const next = { ...clone(obj), status: existing.status } as Stored;
    const specChanged = JSON.stringify((obj as Stored).spec) !== JSON.stringify(existing.spec);
    next.metadata = { ...next.metadata, generation: existing.metadata?.generation };
    return this.store(next, specChanged) as T;
  }

  /** A resourceVersion in a merge patch is a precondition, as on the API server. */
  private precondition(existing: Stored, patch: object): void {
    const wanted = (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== existing.metadata?.resourceVersion) {
      throw new ApiError(409, 'the object has been modified', { reason: 'Conflict', code: 409 });
    }
  }

  async patch<T extends KubernetesObject>(obj: T, patch: object | JsonPatchOperation[]): Promise<T> {
    this.record('patch', obj);
    const existing = this.objects.get(this.key(obj));
    if (!existing) throw this.notFound(obj);
    if (!Array.isArray(patch)) this.precondition(existing, patch);
    const next = merge(clone(existing) as Record<string, unknown>, patch as Record<string, unknown>) as Stored;
    return this.store(next, JSON.stringify(next.spec) !== JSON.stringify(existing.spec)) as T;
  }

  async delete(obj: KubernetesObject): Promise<void> {
    this.record('delete', obj);
    if (!this.objects.delete(this.key(obj))) throw this.notFound(obj);
  }

  async apply<T extends KubernetesObject>(obj: T): Promise<T> {
    this.record('apply', obj);
    const existing = this.objects.get(this.key(obj));
    if (!existing) return this.store(obj, true) as T;
    const next = merge(clone(existing) as Record<string, unknown>, clone(obj) as Record<string, unknown>) as Stored;
    return this.store(next, JSON.stringify(next.spec) !== JSON.stringify(existing.spec)) as T;
  }

  status(): StatusClient {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the status client is a view on this client's private members
    const client = this;
    return new (class extends StatusClient {
      async update<T extends KubernetesObject>(obj: T): Promise<T> {
        client.record('status-update', obj);
        const existing = client.objects.get(client.key(obj));
        if (!existing) throw client.notFound(obj);
        if (obj.metadata?.resourceVersion && obj.metadata.resourceVersion !== existing.metadata?.resourceVersion) {
          throw new ApiError(409, 'the object has been modified', { reason: 'Conflict', code: 409 });
        }
        return client.store({ ...clone(existing), status: clone((obj as Stored).status) }, false) as T;
      }
      async patch<T extends KubernetesObject>(obj: T, patch: object): Promise<T> {
        client.record('status-patch', obj);
        const existing = client.objects.get(client.key(obj));
        if (!existing) throw client.notFound(obj);
        client.precondition(existing, patch);
        const status = merge(clone((existing.status ?? {}) as Record<string, unknown>), ((patch as Stored).status ?? {}) as Record<string, unknown>);
        return client.store({ ...clone(existing), status }, false) as T;
      }
    })();
  }
}
