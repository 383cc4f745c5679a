// Raw HTTP to the API server with a kubeconfig's credentials: JSON in, JSON out, nothing in
// between. Tests read back with it exactly what the server stored.
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** The status and parsed JSON body of one request. */
export interface RawResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** Sends one request to the current cluster of `kc`; the body is sent as given (JSON), never converted. */
export async function raw<T = Record<string, unknown>>(
  kc: KubeConfig, method: string, path: string, body?: unknown, contentType = 'application/json',
): Promise<RawResponse<T>> {
  const options: RequestOptions = { method, headers: { accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  if (payload !== undefined) options.headers = { ...options.headers, 'content-type': contentType };
  const server = kc.getCurrentCluster()!.server;
  return new Promise((resolve, reject) => {
    const req = request(`${server}${path}`, options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as T });
        } catch (err) {
          reject(new Error(`${method} ${path}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`, { cause: err }));
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The value at `path` (object keys and array indexes) inside parsed JSON, or undefined. */
export function dig(value: unknown, ...path: Array<string | number>): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}
