import {
  ApiException, HttpMethod, KubeConfig, KubernetesObjectApi, ServerConfiguration, createConfiguration,
  type KubernetesObject, type RequestContext, type ResponseContext,
} from '@kubernetes/client-node';
import type { ResourceInfo } from '../resources/index.js';
import { ApiError, type ApiStatus } from './errors.js';

/** Called after every API request: for request counts and latency metrics. */
export type RequestObserver = (request: { method: string; path: string; statusCode: number; seconds: number }) => void;

/** Options of {@link ApiTransport.create}. */
export interface TransportOptions {
  /** Sent as `User-Agent`. */
  userAgent?: string;
  /** Observes every request and its outcome (status 0 = no response). */
  onRequest?: RequestObserver;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The REST path of a collection (`/apis/apps/v1/namespaces/web/deployments`). */
export function collectionPath(resource: ResourceInfo, namespace?: string): string {
  const root = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  return resource.namespaced && namespace ? `${root}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}` : `${root}/${resource.plural}`;
}

/** The REST path of one object, or of its subresource. */
export function objectPath(resource: ResourceInfo, namespace: string | undefined, name: string, subresource?: string): string {
  const path = `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${path}/${subresource}` : path;
}

function parseStatus(body: unknown): ApiStatus | undefined {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as ApiStatus;
    } catch {
      return body ? { message: body } : undefined;
    }
  }
  return body && typeof body === 'object' ? (body as ApiStatus) : undefined;
}

/**
 * HTTP access to the Kubernetes API through @kubernetes/client-node's request machinery
 * (authentication, TLS, middleware, model deserialisation), addressing resources by
 * {@link ResourceInfo} so that no discovery round-trips are needed. Failures become
 * {@link ApiError}s.
 */
export class ApiTransport extends KubernetesObjectApi {
  /** A transport for the current context of `kubeConfig`. */
  static create(kubeConfig: KubeConfig, options: TransportOptions = {}): ApiTransport {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new ApiError(0, 'the kubeconfig has no current cluster');
    const userAgent = options.userAgent ?? 'maestro-operator';
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      promiseMiddleware: [{
        pre: async (context: RequestContext) => {
          context.setHeaderParam('User-Agent', userAgent);
          return context;
        },
        post: async (response: ResponseContext) => response,
      }],
    });
    const transport = new ApiTransport(configuration);
    transport.observer = options.onRequest;
    transport.setDefaultNamespace(kubeConfig);
    return transport;
  }

  private observer: RequestObserver | undefined;

  /**
   * Sends one request and returns the deserialised response body (the parsed JSON as is
   * with `raw`).
   *
   * @throws {@link ApiError} with the status code and the API's Status, or code 0 when no response arrived.
   */
  async send<T>(method: Method, path: string, options: { query?: Record<string, string | undefined>; body?: unknown; contentType?: string; signal?: AbortSignal; raw?: boolean } = {}): Promise<T> {
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod[method]);
    context.setHeaderParam('Accept', 'application/json');
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) context.setQueryParam(key, value);
    }
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      context.setBody(JSON.stringify(options.body));
    }
    if (options.signal) context.setSignal(options.signal);
    const started = performance.now();
    let statusCode = 0;
    try {
      // 'any' makes client-node return the parsed JSON untouched (used for lists, whose
      // items the cache deserialises one by one).
      const result = await this.requestPromise<KubernetesObject>(context, options.raw ? 'any' : undefined);
      statusCode = method === 'POST' ? 201 : 200;
      return result as T;
    } catch (err) {
      if (err instanceof ApiException) {
        statusCode = err.code;
        const status = parseStatus(err.body);
        throw new ApiError(err.code, status?.message ?? `HTTP ${err.code}`, status, { verb: method, path, cause: err });
      }
      if (err instanceof ApiError) throw err;
      throw new ApiError(0, `request failed: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`, undefined, { verb: method, path, cause: err });
    } finally {
      this.observer?.({ method, path, statusCode, seconds: (performance.now() - started) / 1000 });
    }
  }
}
