import {
  HttpMethod, KubeConfig, KubernetesObjectApi, ServerConfiguration, createConfiguration,
  type KubernetesObject, type RequestContext, type ResponseContext, type SecurityAuthentication,
} from '@kubernetes/client-node';
import type { ResourceInfo } from '../resources/index.js';
import { ApiError, toApiError } from './errors.js';

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

/**
 * The kubeconfig's authentication, with one connection pool: client-node's
 * `KubeConfig.applySecurityAuthentication` creates a new undici Agent, hence a new TCP and
 * TLS connection, for every request. The first Agent is kept and reused (keep-alive, and
 * HTTP/2 when the server offers it); headers are still applied per request, so refreshed
 * tokens are picked up.
 */
function sharedDispatcher(kubeConfig: KubeConfig): SecurityAuthentication {
  let dispatcher: ReturnType<RequestContext['getDispatcher']>;
  return {
    getName: () => 'kubeconfig',
    async applySecurityAuthentication(context: RequestContext): Promise<void> {
      await kubeConfig.applySecurityAuthentication(context);
      if (dispatcher) context.setDispatcher(dispatcher);
      else dispatcher = context.getDispatcher();
    },
  };
}

/** The response type that makes {@link ApiTransport.send} return the parsed JSON untouched. */
const RAW = 'maestro:raw';

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
      authMethods: { default: sharedDispatcher(kubeConfig) },
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
   * client-node deserialises even type 'any' responses that carry apiVersion and kind as a
   * KubernetesObject, re-typing a List's `metadata` as V1ObjectMeta, which drops `continue`
   * and `remainingItemCount`: paged lists would end after their first page.
   */
  protected override async processResponse<T extends KubernetesObject>(response: ResponseContext, type?: string): Promise<T> {
    if (type !== RAW) return super.processResponse<T>(response, type);
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) return super.processResponse<T>(response, 'any');
    return JSON.parse(await response.body.text()) as T;
  }

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
      // RAW returns the parsed JSON untouched (used for lists, whose items the cache
      // deserialises one by one): see processResponse.
      const result = await this.requestPromise<KubernetesObject>(context, options.raw ? RAW : undefined);
      statusCode = method === 'POST' ? 201 : 200;
      return result as T;
    } catch (err) {
      const error = toApiError(err, method, path, options.signal);
      statusCode = error.statusCode;
      throw error;
    } finally {
      this.observer?.({ method, path, statusCode, seconds: (performance.now() - started) / 1000 });
    }
  }
}
