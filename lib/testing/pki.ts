// tsyringe (used by @peculiar/x509) needs the Reflect polyfill loaded before it.
import 'reflect-metadata';
import { generateKeyPair, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';

const subtle = webcrypto.subtle;
const crypto = webcrypto;
type KeyPair = webcrypto.CryptoKeyPair;
// ECDSA P-256: key generation takes microseconds (RSA takes tens of milliseconds), and
// Go's TLS stack, kubectl and Node all accept it.
const keyAlgorithm: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A PEM certificate with its PEM (PKCS#8) private key. */
export interface CertificateKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What a leaf certificate is for. */
export interface LeafOptions {
  /** The subject's common name: the user name for client certificates. */
  commonName: string;
  /** Organizations: the groups for client certificates. */
  organizations?: readonly string[];
  /** Server certificates: DNS names and IP addresses it is valid for. */
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  usage: 'client' | 'server' | 'client+server';
}

/**
 * A throw-away certificate authority for one control plane: it signs the API server's
 * serving certificate and any number of client certificates, whose CN is the user name
 * and whose O entries are the groups (the API server's x509 authenticator reads them).
 *
 * @example
 * ```ts
 * const ca = await CertificateAuthority.create('maestro-envtest-ca');
 * const admin = await ca.issue({ commonName: 'admin', organizations: ['system:masters'], usage: 'client' });
 * ```
 */
export class CertificateAuthority {
  private constructor(
    private readonly keys: KeyPair,
    private readonly cert: x509.X509Certificate,
    /** The CA certificate (PEM): what clients trust and the API server's `--client-ca-file`. */
    readonly certPem: string,
    /** The CA key (PEM), e.g. for the controller manager's `--cluster-signing-key-file`. */
    readonly keyPem: string,
  ) {}

  /** Creates a CA with a fresh key, valid from an hour ago (clock skew) for a week. */
  static async create(commonName: string): Promise<CertificateAuthority> {
    const keys = await newKeys();
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: serial(),
        name: [{ CN: [commonName] }],
        notBefore: hoursFromNow(-1),
        notAfter: hoursFromNow(24 * 7),
        keys,
        signingAlgorithm: keyAlgorithm,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    return new CertificateAuthority(keys, cert, cert.toString('pem'), await privatePem(keys.privateKey));
  }

  /** Issues a certificate signed by this CA for a fresh key. */
  async issue(options: LeafOptions): Promise<CertificateKeyPair> {
    const keys = await newKeys();
    const usages: string[] = [];
    if (options.usage !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
    if (options.usage !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(usages, false),
      await x509.AuthorityKeyIdentifierExtension.create(this.cert, false, crypto),
    ];
    const altNames: x509.JsonGeneralName[] = [
      ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));
    const subject: x509.JsonName = [{ CN: [options.commonName] }];
    // One RDN per group, in order: Go's pkix reads every O value as a group.
    for (const org of options.organizations ?? []) subject.push({ O: [org] });
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial(),
        subject,
        issuer: this.cert.subjectName,
        notBefore: hoursFromNow(-1),
        notAfter: hoursFromNow(24 * 7),
        publicKey: keys.publicKey,
        signingKey: this.keys.privateKey,
        signingAlgorithm: keyAlgorithm,
        extensions,
      },
      crypto,
    );
    return { certPem: cert.toString('pem'), keyPem: await privatePem(keys.privateKey) };
  }
}

/** An RSA key pair (PEM) for signing and verifying service-account tokens. */
export async function serviceAccountKeyPair(): Promise<{ publicKeyPem: string; privateKeyPem: string }> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

async function newKeys(): Promise<KeyPair> {
  return (await subtle.generateKey(keyAlgorithm, true, ['sign', 'verify']));
}

async function privatePem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function serial(): string {
  // 16 random bytes with the top bit clear: a positive INTEGER, unique per certificate.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

function hoursFromNow(hours: number): Date {
  return new Date(Date.now() + hours * 3_600_000);
}
