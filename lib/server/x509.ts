/**
 * `@peculiar/x509`, loaded on first use. Only generating a certificate needs it (the
 * self-signed metrics certificate, the webhooks' own CA); an operator that serves a mounted
 * certificate, or no HTTPS at all, never loads it (about 15 MiB of RSS and 0.2 s of CPU at
 * start on Node 24).
 */
// @peculiar/x509 uses tsyringe, which needs the Reflect polyfill loaded before it.
import 'reflect-metadata';

type X509 = typeof import('@peculiar/x509');

let loading: Promise<X509> | undefined;

/** The `@peculiar/x509` module (imported once, then shared). */
export function x509(): Promise<X509> {
  return (loading ??= import('@peculiar/x509'));
}
