import type { V1Lease } from '@kubernetes/client-node';
import { ApiError } from '../client/errors.js';
import type { ApiTransport } from '../client/transport.js';
import { leaseSpecFor, type LeaderElectionRecord } from './record.js';

/**
 * @internal The Lease a {@link LeaderElector} competes for (client-go's `LeaseLock`): it
 * reads, creates and replaces one Lease through the operator's transport, remembering the
 * last version it saw so that a replace is conditional on it (optimistic concurrency: a
 * 409 means another candidate wrote first). Every call takes a signal that aborts the
 * request. Failures are {@link ApiError}s. Times stay the server's strings (exact to the
 * microsecond), which is what the elector compares.
 */
export class LeaseLock {
  /** The last Lease read or written: its resourceVersion guards the next replace. */
  #lease: V1Lease | undefined;
  readonly #collection: string;
  readonly #path: string;

  constructor(private readonly transport: ApiTransport, readonly namespace: string, readonly name: string) {
    this.#collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
    this.#path = `${this.#collection}/${encodeURIComponent(name)}`;
  }

  /** `namespace/name`, for logs. */
  describe(): string {
    return `${this.namespace}/${this.name}`;
  }

  /** Whether a Lease was read or written, so that {@link LeaseLock.update} has a version to guard on. */
  get known(): boolean {
    return this.#lease !== undefined;
  }

  async get(signal: AbortSignal): Promise<V1Lease> {
    signal.throwIfAborted();
    this.#lease = await this.transport.send<V1Lease>('GET', this.#path, { signal });
    return this.#lease;
  }

  async create(record: LeaderElectionRecord, signal: AbortSignal): Promise<V1Lease> {
    signal.throwIfAborted();
    const body: V1Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.namespace }, spec: leaseSpecFor(record) };
    this.#lease = await this.transport.send<V1Lease>('POST', this.#collection, { body, signal });
    return this.#lease;
  }

  /** Replaces the spec of the last Lease seen; fails with 409 if it changed since. */
  async update(record: LeaderElectionRecord, signal: AbortSignal): Promise<V1Lease> {
    if (!this.#lease) throw new ApiError(0, 'the lease was neither read nor created yet', undefined, { verb: 'PUT', path: this.#path });
    signal.throwIfAborted();
    // Keep metadata (resourceVersion, labels, owners) and spec fields we do not manage.
    const body: V1Lease = { ...this.#lease, spec: { ...this.#lease.spec, ...leaseSpecFor(record) } };
    this.#lease = await this.transport.send<V1Lease>('PUT', this.#path, { body, signal });
    return this.#lease;
  }
}
