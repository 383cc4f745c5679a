import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServerConfigError } from './errors.js';

/**
 * Limits of both servers, against slow or oversized requests (the endpoints answer small
 * GETs): headers within 10 s, a whole request within 30 s, headers up to 16 KiB.
 */
export const HTTP_SERVER_LIMITS = Object.freeze({
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  maxHeaderSize: 16_384,
});

/**
 * Listens on `port` at `host`. Without a host, on every interface: Node binds `::` when the
 * machine has IPv6, which on Linux accepts IPv4 connections too (unless
 * `net.ipv6.bindv6only=1`), else `0.0.0.0`. That is what IPv4, IPv6 and dual-stack clusters
 * all need; `0.0.0.0` would leave IPv6-only clusters' probes unanswered.
 */
export async function listen(server: HttpServer, port: number, host: string | undefined, what: string): Promise<AddressInfo> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ServerConfigError(`${what}: port ${port} is not a TCP port (0 to 65535; 0 picks a free one)`);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => reject(new ServerConfigError(`${what}: cannot listen on ${host ?? '*'}:${port}: ${err.message}`, { cause: err }));
    server.once('error', failed);
    const done = () => {
      server.off('error', failed);
      resolve();
    };
    if (host === undefined) server.listen(port, done);
    else server.listen(port, host, done);
  });
  return server.address() as AddressInfo;
}

/** Stops accepting connections, ends open ones, and resolves when the server is closed. */
export async function close(server: HttpServer | undefined): Promise<void> {
  if (!server?.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/** A URL for the bound address, e.g. `https://[::1]:8443` (the unspecified address becomes loopback). */
export function urlOf(scheme: 'http' | 'https', address: AddressInfo): string {
  let host = address.address;
  if (host === '::' || host === '0.0.0.0') host = address.family === 'IPv6' ? '::1' : '127.0.0.1';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
