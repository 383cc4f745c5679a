import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One event of the API server's audit log (`audit.k8s.io/v1` Event, at level Metadata),
 * with the fields request counting needs.
 *
 * @example
 * ```ts
 * const e: AuditEvent = (await audit.requests({ user: 'operator' }))[0];
 * e.verb; e.objectRef?.resource; e.responseStatus?.code; e.requestReceivedTimestamp;
 * ```
 */
export interface AuditEvent {
  auditID: string;
  /** `ResponseStarted` (long-running requests such as watches, when they start), `ResponseComplete` or `Panic`. */
  stage: string;
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  userAgent?: string;
  sourceIPs?: string[];
  objectRef?: {
    resource?: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
    apiVersion?: string;
    subresource?: string;
  };
  responseStatus?: { code?: number; reason?: string; message?: string };
  /**
   * What the API server noted about the request, e.g. `authorization.k8s.io/decision`
   * (`allow` or `forbid`, the authorizer's answer) and `authorization.k8s.io/reason`.
   */
  annotations?: Record<string, string>;
  /** RFC 3339 with microseconds. */
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

/**
 * Which requests {@link ApiServerAudit.requests} returns; every given field must match.
 *
 * @example
 * ```ts
 * await audit.requests({ user: 'operator', verb: ['patch', 'update'], resource: 'configmaps', name: 'shared', since: t0 });
 * ```
 */
export interface AuditFilter {
  /** The authenticated user name (a client certificate's common name). */
  user?: string;
  verb?: string | readonly string[];
  resource?: string;
  /** `''` for the core group. */
  apiGroup?: string;
  namespace?: string;
  name?: string;
  /** `status`, `scale`, ...; `''` for requests to the object itself. */
  subresource?: string;
  /** Only requests received at or after this time (ms since the epoch, `Date.now()`). */
  since?: number;
  /** Only requests received before this time (ms since the epoch). */
  until?: number;
}

/** The audit policy: every request at level Metadata (no bodies), without the RequestReceived stage. */
const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`;

/**
 * The API server's own audit log, for tests that count what a client really sent (each
 * request, its verb, object, user and time), even through TLS. Create it, pass its
 * {@link ApiServerAudit.apiServerFlags} to `startControlPlane`, then query it. Give each
 * client its own user (`plane.userKubeConfig(name, ['system:masters'])`) to tell clients
 * apart. The log is written synchronously by the API server (blocking mode), so a request
 * that completed is in it.
 *
 * @example
 * ```ts
 * const audit = await createApiServerAudit();
 * const plane = await startControlPlane({ apiServerFlags: audit.apiServerFlags });
 * const kubeConfig = await plane.userKubeConfig('operator', ['system:masters']);
 * // ... run the operator with kubeConfig ...
 * const watches = await audit.requests({ user: 'operator', verb: 'watch', resource: 'configmaps' });
 * await plane.stop();
 * await audit.remove();
 * ```
 */
export class ApiServerAudit {
  /** kube-apiserver flags (without `--`) that enable this log: policy file, log path, JSON format, blocking mode. */
  readonly apiServerFlags: Readonly<Record<string, string>>;
  /** The log file (JSON lines). */
  readonly path: string;
  readonly #dir: string;
  readonly #events: AuditEvent[] = [];
  #offset = 0;
  #partial = '';
  #reading: Promise<void> | undefined;

  /** @internal Use {@link createApiServerAudit}. */
  constructor(dir: string) {
    this.#dir = dir;
    this.path = join(dir, 'audit.log');
    this.apiServerFlags = {
      'audit-policy-file': join(dir, 'policy.yaml'),
      'audit-log-path': this.path,
      'audit-log-format': 'json',
      'audit-log-mode': 'blocking',
      // Keep one file: counting needs every event (the default rotates at 100 MB).
      'audit-log-maxsize': '0',
    };
  }

  /** Every event logged so far, oldest first (reads what was appended since the last call). */
  async events(): Promise<readonly AuditEvent[]> {
    this.#reading ??= this.#readNew().finally(() => { this.#reading = undefined; });
    await this.#reading;
    return this.#events;
  }

  /**
   * The requests that match `filter`, one per request (its `ResponseComplete` event, or
   * its `ResponseStarted` event while a long-running request such as a watch is still
   * open), in the order they were received.
   */
  async requests(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const byId = new Map<string, AuditEvent>();
    for (const event of await this.events()) {
      if (!matches(event, filter)) continue;
      const seen = byId.get(event.auditID);
      if (!seen || event.stage !== 'ResponseStarted') byId.set(event.auditID, event);
    }
    return [...byId.values()].sort((a, b) => received(a) - received(b));
  }

  /** Deletes the policy and the log (after the control plane stopped). */
  async remove(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #readNew(): Promise<void> {
    let file: FileHandle;
    try {
      file = await open(this.path, 'r');
    } catch {
      return; // nothing logged yet
    }
    try {
      const chunk = Buffer.alloc(1 << 20);
      for (;;) {
        const { bytesRead } = await file.read(chunk, 0, chunk.length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        const text = this.#partial + chunk.toString('utf8', 0, bytesRead);
        const lines = text.split('\n');
        this.#partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line) continue;
          try {
            this.#events.push(JSON.parse(line) as AuditEvent);
          } catch {
            // Not an event (should not happen with the JSON format); skip it.
          }
        }
      }
    } finally {
      await file.close();
    }
  }
}

/**
 * Creates the policy file for an {@link ApiServerAudit} in a new temporary folder (or
 * `options.dir`).
 *
 * @example
 * ```ts
 * const audit = await createApiServerAudit();
 * const plane = await startControlPlane({ apiServerFlags: { ...audit.apiServerFlags } });
 * ```
 */
export async function createApiServerAudit(options: { dir?: string } = {}): Promise<ApiServerAudit> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'maestro-audit-')));
  const audit = new ApiServerAudit(dir);
  await writeFile(audit.apiServerFlags['audit-policy-file']!, POLICY);
  return audit;
}

/** When the API server received the request, in ms since the epoch. */
export function received(event: AuditEvent): number {
  return Date.parse(event.requestReceivedTimestamp);
}

function matches(event: AuditEvent, filter: AuditFilter): boolean {
  if (filter.user !== undefined && event.user?.username !== filter.user) return false;
  if (filter.verb !== undefined && !(typeof filter.verb === 'string' ? [filter.verb] : filter.verb).includes(event.verb)) return false;
  const ref = event.objectRef ?? {};
  if (filter.resource !== undefined && ref.resource !== filter.resource) return false;
  if (filter.apiGroup !== undefined && (ref.apiGroup ?? '') !== filter.apiGroup) return false;
  if (filter.namespace !== undefined && ref.namespace !== filter.namespace) return false;
  if (filter.name !== undefined && ref.name !== filter.name) return false;
  if (filter.subresource !== undefined && (ref.subresource ?? '') !== filter.subresource) return false;
  if (filter.since !== undefined && received(event) < filter.since) return false;
  if (filter.until !== undefined && received(event) >= filter.until) return false;
  return true;
}
