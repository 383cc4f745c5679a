// One HTTP(S) request with its own connection, as a scraper makes it: optional bearer token,
// the CA to trust, and the certificate the server presented.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface Scrape {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** SHA-256 fingerprint of the server's certificate (HTTPS only). */
  fingerprint?: string;
}

/** GETs `url` (http or https), trusting `ca` (PEM), sending `token` as a bearer token. */
export function get(url: string, options: { ca?: string | string[]; token?: string; method?: string; timeoutMs?: number } = {}): Promise<Scrape> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https:');
    const headers = options.token ? { Authorization: `Bearer ${options.token}` } : {};
    const common = { method: options.method ?? 'GET', headers, agent: false as const, timeout: timeoutMs };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const fingerprint = secure ? (res.socket as TLSSocket).getPeerCertificate().fingerprint256 : undefined;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, ...(fingerprint ? { fingerprint } : {}) }));
      res.on('error', reject);
    };
    const req = secure ? httpsRequest(url, { ...common, ca: options.ca }, onResponse) : httpRequest(url, common, onResponse);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
