import { postJson } from './http.js';

/** The ports and folder of one etcd member. */
export interface EtcdConfig {
  binary: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
}

/** The client URL of an etcd member (also its HTTP/JSON gateway). */
export function etcdUrl(config: EtcdConfig): string {
  return `http://127.0.0.1:${config.clientPort}`;
}

/** The command line envtest uses for etcd: one loopback member, no fsync (tests do not need durability). */
export function etcdCommand(config: EtcdConfig): string[] {
  const client = etcdUrl(config);
  const peer = `http://127.0.0.1:${config.peerPort}`;
  return [
    config.binary,
    '--name=maestro',
    `--data-dir=${config.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=maestro=${peer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

/** Whether etcd answers `GET /health` with `{"health":"true"}`. */
export async function etcdHealthy(config: EtcdConfig): Promise<{ ok: boolean; observed: string }> {
  const res = await fetch(`${etcdUrl(config)}/health`, { signal: AbortSignal.timeout(2_000) });
  const body = await res.text();
  return { ok: res.ok && /"health"\s*:\s*"true"/.test(body), observed: `HTTP ${res.status} ${body.trim()}` };
}

interface PutResponse {
  header?: { revision?: string };
}

/** A key outside the API server's `/registry` prefix, written to mark the compaction point. */
const markerKey = '/maestro-testing/compaction-marker';

/**
 * Compacts etcd's history through the gRPC gateway (JSON over HTTP, so no etcd client is
 * needed), keeping only the latest version of each key: afterwards a watch from any
 * resourceVersion older than the newest one fails as compacted. Returns the revision
 * compacted to.
 *
 * It first writes a marker key and compacts to that write's revision rather than reading
 * the current one: compacting to revision R keeps R itself, and a watch starting exactly
 * at R then sees R's event without its previous value, which the API server reports as a
 * 500, not a 410. With the marker at R, every object's resourceVersion is at most R-1, so
 * a watch from an older one starts below R (410 Gone) and a watch from the newest starts
 * at R, where no object changed.
 */
export async function compactEtcdTo(config: EtcdConfig): Promise<number> {
  const base64 = (text: string): string => Buffer.from(text).toString('base64');
  const put = await postJson<PutResponse>(`${etcdUrl(config)}/v3/kv/put`, { key: base64(markerKey), value: base64(new Date().toISOString()) });
  const revision = Number(put.header?.revision);
  if (!Number.isSafeInteger(revision) || revision <= 0) throw new Error(`etcd returned no revision: ${JSON.stringify(put)}`);
  try {
    // physical: return only once the compaction is applied to the backend.
    await postJson(`${etcdUrl(config)}/v3/kv/compaction`, { revision: String(revision), physical: true });
  } catch (err) {
    // Someone (the API server's own compactor) got there first: the goal is met.
    if (!/required revision has been compacted/.test(String(err))) throw err;
  }
  return revision;
}
