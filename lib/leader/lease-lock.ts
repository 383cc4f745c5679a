import {
  CoordinationV1Api, Observable,
  type KubeConfig, type ObservableMiddleware, type RequestContext, type ResponseContext, type V1Lease,
} from '@kubernetes/client-node';
import { ApiError, toApiError } from '../client/errors.js';
import { leaseSpecFor, type LeaderElectionRecord } from './record.js';

/**
 * @internal The Lease a {@link LeaderElector} competes for (client-go's `LeaseLock`): it
 * reads, creates and replaces one Lease, remembering the last version it saw so that a
 * replace is conditional on it (optimistic concurrency: a 409 means another candidate
 * wrote first). Every call takes a signal that aborts the request. Failures are
 * {@link ApiError}s.
 */
export class LeaseLock {
  readonly #api: CoordinationV1Api;
  /** The last Lease read or written: its resourceVersion guards the next replace. */
  #lease: V1Lease | undefined;
  readonly #path: string;

  constructor(kubeConfig: KubeConfig, readonly namespace: string, readonly name: string) {
    this.#api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.#path = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`;
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
    this.#lease = await this.#call('GET', signal, (options) => this.#api.readNamespacedLease({ namespace: this.namespace, name: this.name }, options));
    return this.#lease;
  }

  async create(record: LeaderElectionRecord, signal: AbortSignal): Promise<V1Lease> {
    const body: V1Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.namespace }, spec: leaseSpecFor(record) };
    this.#lease = await this.#call('POST', signal, (options) => this.#api.createNamespacedLease({ namespace: this.namespace, body }, options));
    return this.#lease;
  }

  /** Replaces the spec of the last Lease seen; fails with 409 if it changed since. */
  async update(record: LeaderElectionRecord, signal: AbortSignal): Promise<V1Lease> {
    if (!this.#lease) throw new ApiError(0, 'the lease was neither read nor created yet', undefined, { verb: 'PUT', path: this.#path });
    // Keep metadata (resourceVersion, labels, owners) and spec fields we do not manage.
    const body: V1Lease = { ...this.#lease, spec: { ...this.#lease.spec, ...leaseSpecFor(record) } };
    this.#lease = await this.#call('PUT', signal, (options) => this.#api.replaceNamespacedLease({ namespace: this.namespace, name: this.name, body }, options));
    return this.#lease;
  }

  async #call(verb: string, signal: AbortSignal, send: (options: { middleware: ObservableMiddleware[]; middlewareMergeStrategy: 'append' }) => Promise<V1Lease>): Promise<V1Lease> {
    // client-node has no per-call signal option; a call-time middleware attaches it to the fetch.
    const attachSignal: ObservableMiddleware = {
      pre: (context: RequestContext) => {
        context.setSignal(signal);
        return new Observable(Promise.resolve(context));
      },
      post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
    };
    try {
      signal.throwIfAborted();
      return await send({ middleware: [attachSignal], middlewareMergeStrategy: 'append' });
    } catch (err) {
      throw toApiError(err, verb, this.#path, signal);
    }
  }
}
