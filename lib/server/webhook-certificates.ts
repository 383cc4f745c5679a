/**
 * A certificate authority of the operator's own for its webhooks: the API server calls
 * webhooks over TLS and must trust their certificate, so the operator signs its serving
 * certificate with a CA whose certificate goes into the `caBundle` of its webhook
 * configurations and CRDs (what cert-manager's CA injector does, for operators installed
 * without cert-manager).
 */
// The module, not its `webcrypto`: in a bundle, where only what is imported is read, that
// getter (it loads Node's Web Crypto) is then read when a certificate is made, not at start.
import nodeCrypto, { type webcrypto } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { CertificateKeyPair } from './certificates.js';
import { x509 as loadX509 } from './x509.js';

/** A CA and the serving certificate it signed. */
export interface WebhookCertificates {
  /** The CA certificate (PEM): the `caBundle`. */
  readonly caPem: string;
  /** The CA's private key (PEM), to sign the next serving certificate. */
  readonly caKeyPem: string;
  /** The serving certificate (PEM) and its key. */
  readonly serving: CertificateKeyPair;
}

const algorithm: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 24 * 3_600_000;
/** The CA lives 10 years (so the caBundle rarely changes), serving certificates 1 year (renewed 30 days before). */
const CA_DAYS = 3650;
const SERVING_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;

function serial(): string {
  const bytes = nodeCrypto.webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // a positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

async function privatePem(key: webcrypto.CryptoKey): Promise<string> {
  const x509 = await loadX509();
  return x509.PemConverter.encode(await nodeCrypto.webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/**
 * A new CA (ECDSA P-256, 10 years) and a serving certificate from it for `dnsNames` (the
 * webhook Service's names: `<service>.<namespace>.svc` and `<service>.<namespace>.svc.cluster.local`).
 *
 * @example
 * ```ts
 * const certs = await createWebhookCertificates('static-site-operator', ['static-site-operator-webhook.static-site-system.svc']);
 * ```
 */
export async function createWebhookCertificates(commonName: string, dnsNames: readonly string[]): Promise<WebhookCertificates> {
  const x509 = await loadX509();
  const keys = await nodeCrypto.webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [`${commonName}-webhook-ca@${Math.floor(Date.now() / 1000)}`] }],
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + CA_DAYS * DAY),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, nodeCrypto.webcrypto),
    ],
  }, nodeCrypto.webcrypto);
  const caPem = ca.toString('pem');
  const caKeyPem = await privatePem(keys.privateKey);
  return { caPem, caKeyPem, serving: await issueServingCertificate(caPem, caKeyPem, dnsNames) };
}

/** A serving certificate (1 year) for `dnsNames` signed by the CA. */
export async function issueServingCertificate(caPem: string, caKeyPem: string, dnsNames: readonly string[]): Promise<CertificateKeyPair> {
  const x509 = await loadX509();
  const ca = new x509.X509Certificate(caPem);
  const caKey = await nodeCrypto.webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(caKeyPem)[0]!, algorithm, false, ['sign']);
  const keys = await nodeCrypto.webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const isIp = (name: string) => /^[\d.]+$/.test(name) || name.includes(':');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [{ CN: [dnsNames[0] ?? 'webhook'] }],
    issuer: ca.subjectName,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Math.min(Date.now() + SERVING_DAYS * DAY, ca.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false, nodeCrypto.webcrypto),
      new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: isIp(value) ? 'ip' as const : 'dns' as const, value })), false),
    ],
  }, nodeCrypto.webcrypto);
  return { certPem: cert.toString('pem'), keyPem: await privatePem(keys.privateKey) };
}

/**
 * Whether stored certificates can still be served for `dnsNames`: the pair matches, the CA
 * signed the serving certificate, it names every DNS name, and neither expires within 30 days.
 */
export async function webhookCertificatesUsable(certs: WebhookCertificates, dnsNames: readonly string[], now = Date.now()): Promise<boolean> {
  const x509 = await loadX509();
  try {
    createSecureContext({ cert: certs.serving.certPem, key: certs.serving.keyPem });
    const ca = new x509.X509Certificate(certs.caPem);
    const serving = new x509.X509Certificate(certs.serving.certPem);
    if (!(await serving.verify({ publicKey: ca.publicKey, signatureOnly: true }, nodeCrypto.webcrypto))) return false;
    const horizon = now + RENEW_BEFORE_DAYS * DAY;
    if (serving.notAfter.getTime() < horizon || ca.notAfter.getTime() < horizon) return false;
    const san = serving.getExtension(x509.SubjectAlternativeNameExtension);
    const names = new Set(san?.names.items.map((n) => n.value) ?? []);
    return dnsNames.every((name) => names.has(name));
  } catch {
    return false;
  }
}
