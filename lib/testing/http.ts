import { request } from 'node:https';

/** TLS material for a probe: the CA to trust and, optionally, a client certificate. */
export interface ProbeTls {
  ca: string;
  cert?: string;
  key?: string;
}

/**
 * One HTTPS GET with its own connection (no pooling, so a restarted server never meets a
 * stale socket), resolving with the status and at most 64 KiB of body.
 */
export function httpsGet(url: string, tls: ProbeTls, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca: tls.ca, cert: tls.cert, key: tls.key, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { if (body.length < 65_536) body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** A JSON POST over plain HTTP (etcd's gRPC gateway on loopback). */
export async function postJson<T>(url: string, body: unknown, timeoutMs = 5_000): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}
