/**
 * Authentication and authorization of requests to the operator's endpoints, delegated to the
 * Kubernetes API server as controller-runtime's `filters.WithAuthenticationAndAuthorization`
 * does: the bearer token is checked with a TokenReview, the user's right to the path with a
 * SubjectAccessReview (`nonResourceURLs`, verb = the HTTP method in lower case). Decisions
 * are cached briefly, so a scrape every few seconds costs the API server almost nothing.
 */
import { createHash } from 'node:crypto';
import {
  AuthenticationV1Api, AuthorizationV1Api, ServerConfiguration, createConfiguration,
  type Configuration, type KubeConfig, type V1SubjectAccessReview, type V1TokenReview, type V1UserInfo,
} from '@kubernetes/client-node';
import { describeError } from '../errors/index.js';
import { ExpiringCache } from './cache.js';
import { ReviewFailedError } from './errors.js';

/**
 * Creates TokenReviews and SubjectAccessReviews: the two API calls delegated authentication
 * and authorization need. {@link reviewClientFromKubeConfig} makes one from a KubeConfig;
 * a runtime with its own API transport can implement it with two POSTs
 * (`/apis/authentication.k8s.io/v1/tokenreviews`, `/apis/authorization.k8s.io/v1/subjectaccessreviews`).
 * A failure should reject with an error carrying the HTTP status as `statusCode` or `code`
 * (client errors are not retried).
 */
export interface ReviewClient {
  createTokenReview(review: V1TokenReview, signal: AbortSignal): Promise<V1TokenReview>;
  createSubjectAccessReview(review: V1SubjectAccessReview, signal: AbortSignal): Promise<V1SubjectAccessReview>;
}

/**
 * A {@link ReviewClient} for the current context of `kubeConfig`, through client-node's
 * typed APIs (its authentication, TLS and token refresh), with cancellation.
 *
 * @example
 * ```ts
 * const auth = new DelegatingAuth({ client: reviewClientFromKubeConfig(kubeConfig) });
 * ```
 */
export function reviewClientFromKubeConfig(kubeConfig: KubeConfig): ReviewClient {
  const configuration = (signal: AbortSignal): Configuration => {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new ReviewFailedError('TokenReview', 'the kubeconfig has no current cluster');
    // One configuration per request: the signal is set by a middleware (as makeApiClient
    // builds its configuration, plus cancellation).
    return createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      promiseMiddleware: [{
        pre: async (context) => {
          context.setSignal(signal);
          return context;
        },
        post: async (response) => response,
      }],
    });
  };
  return {
    createTokenReview: (body, signal) => new AuthenticationV1Api(configuration(signal)).createTokenReview({ body }),
    createSubjectAccessReview: (body, signal) => new AuthorizationV1Api(configuration(signal)).createSubjectAccessReview({ body }),
  };
}

/**
 * Tuning of delegated authentication and authorization (the `auth` of an operator's
 * `server` option); the defaults are controller-runtime's.
 *
 * @example
 * ```ts
 * const auth: MetricsAuthOptions = { allowCacheTtlMs: 60_000, audiences: ['https://kubernetes.default.svc'] };
 * ```
 */
export interface MetricsAuthOptions {
  /**
   * Audiences the token must be valid for (TokenReview `spec.audiences`). Default: none, i.e.
   * the API server's own audience, which is what ServiceAccount tokens mounted into pods (such
   * as Prometheus's) carry.
   */
  audiences?: readonly string[];
  /** How long an authentication result (valid or invalid token) is cached. Default 60 s. */
  authenticationCacheTtlMs?: number;
  /** How long an allowed SubjectAccessReview is cached. Default 5 min. */
  allowCacheTtlMs?: number;
  /** How long a denied SubjectAccessReview is cached. Default 30 s. */
  denyCacheTtlMs?: number;
  /** Entries per cache (least recently used evicted first). Default 1024. */
  cacheSize?: number;
  /** Time limit of one review request. Default 10 s. */
  timeoutMs?: number;
  /** Attempts per review when the API server fails or cannot be reached (not on 4xx). Default 5, waiting 500 ms × 1.5ⁿ between. */
  attempts?: number;
  /** The first wait between attempts (default 500 ms); tests shorten it. */
  retryDelayMs?: number;
  /** Reviews in flight at most; beyond, requests are answered 429 (default 32). Limits what unauthenticated callers can make the API server do. */
  maxInFlight?: number;
  /** The clock of the caches (default Date.now). */
  now?: () => number;
}

/** Options of {@link DelegatingAuth}: where reviews go, and their tuning. */
export interface DelegatingAuthOptions extends MetricsAuthOptions {
  /** Creates the TokenReviews and SubjectAccessReviews. */
  client: ReviewClient;
}

/** The user a token belongs to, as the TokenReview returned it. */
export interface AuthenticatedUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The outcome of {@link DelegatingAuth.check}: `allowed`, or the HTTP status and text to answer with. */
export type AuthDecision =
  | { allowed: true; user: AuthenticatedUser }
  | { allowed: false; status: 401 | 403 | 429 | 500; message: string; user?: AuthenticatedUser; error?: unknown };

/** What {@link DelegatingAuth.check} needs from a request. */
export interface AuthRequest {
  /** The `Authorization` header, if any. */
  authorization: string | undefined;
  /** The HTTP method (the SubjectAccessReview's verb, lower-cased). */
  method: string;
  /** The request path without query (the SubjectAccessReview's `nonResourceAttributes.path`). */
  path: string;
}

type Authentication = { user: AuthenticatedUser } | { user?: undefined; reason: string };

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function statusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown; code?: unknown } | undefined;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : undefined;
  return status && status >= 100 ? status : undefined;
}

/**
 * Delegated authentication (TokenReview) and authorization (SubjectAccessReview) of HTTP
 * requests, with the caching and retries of controller-runtime's metrics filter:
 * - no or malformed `Authorization: Bearer` header, or a token the API server does not
 *   accept → 401;
 * - a user the API server does not allow `<method>` on the path → 403;
 * - a review that cannot be made (API server down) → 500; too many in flight → 429.
 * Tokens are cached by their SHA-256, never as text.
 *
 * The operator's own identity needs `create` on `tokenreviews` (authentication.k8s.io) and
 * `subjectaccessreviews` (authorization.k8s.io): see {@link METRICS_AUTH_RULES}.
 *
 * @example
 * ```ts
 * const auth = new DelegatingAuth({ client: reviewClientFromKubeConfig(kc) });
 * const decision = await auth.check({ authorization: req.headers.authorization, method: 'GET', path: '/metrics' });
 * if (!decision.allowed) { res.writeHead(decision.status); res.end(decision.message); }
 * ```
 */
export class DelegatingAuth {
  readonly #authentications: ExpiringCache<Authentication>;
  readonly #decisions: ExpiringCache<{ allowed: boolean; reason: string }>;
  readonly #pending = new Map<string, Promise<unknown>>();
  #inFlight = 0;

  constructor(private readonly options: DelegatingAuthOptions) {
    const size = options.cacheSize ?? 1024;
    this.#authentications = new ExpiringCache(size, options.now);
    this.#decisions = new ExpiringCache(size, options.now);
  }

  /** Decides whether the request may proceed. Never rejects. */
  async check(request: AuthRequest): Promise<AuthDecision> {
    const token = bearerToken(request.authorization);
    if (token === undefined) return { allowed: false, status: 401, message: 'Unauthorized' };
    let authentication: Authentication;
    try {
      authentication = await this.#authenticate(token);
    } catch (error) {
      if (error instanceof TooManyReviews) return { allowed: false, status: 429, message: 'Too many requests', error };
      return { allowed: false, status: 500, message: 'Authentication failed', error };
    }
    const user = authentication.user;
    if (!user) return { allowed: false, status: 401, message: 'Unauthorized' };
    const verb = request.method.toLowerCase();
    let decision: { allowed: boolean; reason: string };
    try {
      decision = await this.#authorize(user, verb, request.path);
    } catch (error) {
      if (error instanceof TooManyReviews) return { allowed: false, status: 429, message: 'Too many requests', user, error };
      return { allowed: false, status: 500, message: `Authorization for user ${user.username} failed`, user, error };
    }
    if (!decision.allowed) return { allowed: false, status: 403, message: `Authorization denied for user ${user.username}`, user };
    return { allowed: true, user };
  }

  async #authenticate(token: string): Promise<Authentication> {
    const key = sha256(token);
    const cached = this.#authentications.get(key);
    if (cached) return cached;
    return this.#once(`authn:${key}`, async () => {
      const audiences = this.options.audiences ? [...this.options.audiences] : undefined;
      const review = await this.#review('TokenReview', (signal) => this.options.client.createTokenReview({
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview',
        spec: { token, ...(audiences ? { audiences } : {}) },
      }, signal));
      const status = review.status;
      let result: Authentication;
      if (!status?.authenticated || !status.user?.username) {
        result = { reason: status?.error || 'token not authenticated' };
      } else if (audiences?.length && !(status.audiences ?? []).some((a) => audiences.includes(a))) {
        // The API server's rule: with requested audiences, the token must be valid for one.
        result = { reason: 'token not valid for the requested audiences' };
      } else {
        result = { user: userOf(status.user) };
      }
      this.#authentications.set(key, result, this.options.authenticationCacheTtlMs ?? 60_000);
      return result;
    });
  }

  async #authorize(user: AuthenticatedUser, verb: string, path: string): Promise<{ allowed: boolean; reason: string }> {
    const key = sha256(JSON.stringify([user.username, user.uid ?? '', [...user.groups].sort(), user.extra ?? {}, verb, path]));
    const cached = this.#decisions.get(key);
    if (cached) return cached;
    return this.#once(`authz:${key}`, async () => {
      const review = await this.#review('SubjectAccessReview', (signal) => this.options.client.createSubjectAccessReview({
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: {
          user: user.username, uid: user.uid, groups: user.groups, extra: user.extra,
          nonResourceAttributes: { path, verb },
        },
      }, signal));
      const allowed = review.status?.allowed === true && review.status.denied !== true;
      const decision = { allowed, reason: review.status?.reason ?? '' };
      this.#decisions.set(key, decision, allowed ? this.options.allowCacheTtlMs ?? 300_000 : this.options.denyCacheTtlMs ?? 30_000);
      return decision;
    });
  }

  /** One review at a time per key: concurrent scrapes with the same token share it. */
  async #once<T>(key: string, make: () => Promise<T>): Promise<T> {
    const pending = this.#pending.get(key);
    if (pending) return pending as Promise<T>;
    const promise = make().finally(() => this.#pending.delete(key));
    this.#pending.set(key, promise);
    return promise;
  }

  async #review<T>(kind: 'TokenReview' | 'SubjectAccessReview', send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#inFlight >= (this.options.maxInFlight ?? 32)) throw new TooManyReviews();
    this.#inFlight++;
    try {
      const attempts = Math.max(1, this.options.attempts ?? 5);
      let delay = this.options.retryDelayMs ?? 500;
      for (let attempt = 1; ; attempt++) {
        try {
          return await send(AbortSignal.timeout(this.options.timeoutMs ?? 10_000));
        } catch (err) {
          const status = statusOf(err);
          const retriable = status === undefined || status === 429 || status >= 500;
          if (!retriable || attempt >= attempts) {
            throw new ReviewFailedError(kind, `${kind} failed${status ? ` (HTTP ${status})` : ''}: ${describeError(err)}`, { cause: err });
          }
          await new Promise((resolve) => setTimeout(resolve, delay * (0.8 + 0.4 * Math.random())));
          delay *= 1.5;
        }
      }
    } finally {
      this.#inFlight--;
    }
  }
}

class TooManyReviews extends Error {}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function userOf(info: V1UserInfo): AuthenticatedUser {
  return {
    username: info.username ?? '',
    ...(info.uid ? { uid: info.uid } : {}),
    groups: info.groups ?? [],
    ...(info.extra && Object.keys(info.extra).length ? { extra: info.extra } : {}),
  };
}
