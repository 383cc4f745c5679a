/**
 * Serving certificates: a self-signed one generated at start (as controller-runtime does
 * when no certificate is configured), or a certificate and key read from files and reloaded
 * when they change (controller-runtime's certwatcher: a file watch plus a periodic re-read,
 * so that cert-manager's or the kubelet's Secret updates are picked up without a restart).
 */
// The module, not its `webcrypto`: in a bundle, where only what is imported is read, that
// getter (it loads Node's Web Crypto) is then read when a certificate is made, not at start.
import nodeCrypto, { type webcrypto } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { JsonGeneralName } from '@peculiar/x509';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { ServerConfigError } from './errors.js';
import { x509 as loadX509 } from './x509.js';

/** A PEM certificate (chain) with its PEM private key. */
export interface CertificateKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

const keyAlgorithm: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/**
 * A self-signed serving certificate (ECDSA P-256, valid for a year from an hour ago) for
 * `localhost`, this host's name, `127.0.0.1`, `::1` and the given extra names and addresses.
 * Encryption is what it is for: clients either skip verification (as Prometheus does for
 * kube-controller-manager's self-signed metrics) or trust this certificate explicitly.
 *
 * @example
 * ```ts
 * const { certPem, keyPem } = await selfSignedCertificate(['my-operator-metrics.my-ns.svc']);
 * ```
 */
export async function selfSignedCertificate(extraNames: readonly string[] = []): Promise<CertificateKeyPair> {
  const crypto = nodeCrypto.webcrypto;
  const x509 = await loadX509();
  const keys = (await crypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify']));
  const names = new Set(['localhost', hostname(), '127.0.0.1', '::1', ...extraNames].filter(Boolean));
  const isIp = (name: string) => /^[\d.]+$/.test(name) || name.includes(':');
  const altNames: JsonGeneralName[] = [...names].map((value) => ({ type: isIp(value) ? 'ip' as const : 'dns' as const, value }));
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // a positive INTEGER
  const serialHex = Buffer.from(serial).toString('hex');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialHex,
    // A unique subject: clients that trust several of these find each by its name.
    name: [{ CN: [`localhost@${Math.floor(Date.now() / 1000)}-${serialHex.slice(0, 8)}`] }],
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3_600_000),
    keys,
    signingAlgorithm: keyAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(altNames, false),
    ],
  }, crypto);
  const keyPem = x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { certPem: cert.toString('pem'), keyPem };
}

/** Where a certificate and its key are (e.g. a mounted `kubernetes.io/tls` Secret: `tls.crt`, `tls.key`). */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

/** Reads a certificate and key and checks that they form a usable pair. */
export async function readCertificateFiles(files: CertificateFiles): Promise<CertificateKeyPair> {
  let pair: CertificateKeyPair;
  try {
    const [certPem, keyPem] = await Promise.all([readFile(files.certFile, 'utf8'), readFile(files.keyFile, 'utf8')]);
    pair = { certPem, keyPem };
  } catch (err) {
    throw new ServerConfigError(`cannot read the serving certificate ${files.certFile} and key ${files.keyFile}: ${describeError(err)}`, { cause: err });
  }
  try {
    // OpenSSL refuses a key that does not belong to the certificate (e.g. half-updated files).
    createSecureContext({ cert: pair.certPem, key: pair.keyPem });
  } catch (err) {
    throw new ServerConfigError(`the serving certificate ${files.certFile} and key ${files.keyFile} are not a valid pair: ${describeError(err)}`, { cause: err });
  }
  return pair;
}

/** Options of a {@link CertificateWatcher}. */
export interface CertificateWatcherOptions {
  /** Called with each new valid pair (not for the first read). */
  onChange: (pair: CertificateKeyPair) => void;
  /** Called when a re-read fails; the previous pair stays in use. */
  onError?: (err: unknown) => void;
  /** Re-read period, whatever the file watch reports (default 10 s, as controller-runtime's certwatcher). */
  intervalMs?: number;
}

/**
 * Keeps a certificate and key current: reads them at start (failing loudly if they are
 * missing or not a pair), then re-reads on file-system events in their directories and every
 * `intervalMs`. A changed, valid pair is handed to `onChange`; an invalid one (a Secret
 * caught mid-update) is reported to `onError` and the previous pair kept.
 *
 * @example
 * ```ts
 * const watcher = new CertificateWatcher({ certFile: '/certs/tls.crt', keyFile: '/certs/tls.key' }, {
 *   onChange: (pair) => server.setSecureContext({ cert: pair.certPem, key: pair.keyPem }),
 * });
 * const first = await watcher.start();
 * ```
 */
export class CertificateWatcher {
  #current: CertificateKeyPair | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #watchers: FSWatcher[] = [];
  #reading: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly files: CertificateFiles, private readonly options: CertificateWatcherOptions) {}

  /** The pair in use. */
  get current(): CertificateKeyPair | undefined {
    return this.#current;
  }

  /** Reads the pair (rejecting with a {@link ServerConfigError} if unusable) and starts watching. */
  async start(): Promise<CertificateKeyPair> {
    this.#current = await readCertificateFiles(this.files);
    for (const dir of new Set([dirname(this.files.certFile), dirname(this.files.keyFile)])) {
      try {
        // Secret volumes swap a `..data` symlink: events come from the directory, not the file.
        const watcher = watch(dir, { persistent: false }, () => this.#soon());
        watcher.on('error', () => undefined); // the periodic re-read still works
        this.#watchers.push(watcher);
      } catch {
        // No inotify (limits, some file systems): the periodic re-read suffices.
      }
    }
    this.#timer = setInterval(() => void this.reload(), this.options.intervalMs ?? 10_000);
    this.#timer.unref();
    return this.#current;
  }

  /** Re-reads now; resolves when done (changes are reported through the callbacks). */
  reload(): Promise<void> {
    this.#reading ??= this.#read().finally(() => { this.#reading = undefined; });
    return this.#reading;
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
  }

  #soon(): void {
    // Writers touch both files in turn: read once after they settle.
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reload(), 100);
    this.#debounce.unref();
  }

  async #read(): Promise<void> {
    try {
      const pair = await readCertificateFiles(this.files);
      if (this.#stopped) return;
      if (pair.certPem === this.#current?.certPem && pair.keyPem === this.#current.keyPem) return;
      this.#current = pair;
      this.options.onChange(pair);
    } catch (err) {
      if (!this.#stopped) this.options.onError?.(err);
    }
  }
}

/** Where a server's certificate comes from: a mounted directory (`tls.crt`, `tls.key`) or two files. */
export type TlsSource = { certDir: string } | CertificateFiles;

/**
 * A {@link CertificateWatcher} of a server's `tls` option: `onChange` gets each new valid
 * pair, and the reload (or the previous pair kept) is logged as `<what> reloaded`.
 */
export function watchServingCertificate(tls: TlsSource, options: { what: string; log: Logger; intervalMs?: number; onChange: (pair: CertificateKeyPair) => void }): CertificateWatcher {
  const files = 'certDir' in tls ? { certFile: join(tls.certDir, 'tls.crt'), keyFile: join(tls.certDir, 'tls.key') } : tls;
  return new CertificateWatcher(files, {
    intervalMs: options.intervalMs,
    onChange: (pair) => {
      options.onChange(pair);
      options.log.info({ certFile: files.certFile }, `${options.what} reloaded`);
    },
    onError: (err) => options.log.warn({ err: describeError(err) }, `${options.what} not reloaded; keeping the previous one`),
  });
}
