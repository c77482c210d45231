/**
 * TLS for the agent port and the HTTP port (SPEC Z1): reading and checking the PEM files named
 * by TLS_CERT_FILE / TLS_KEY_FILE / TLS_CA_FILE, and the server options built from them.
 *
 * One loader serves start-up (a bad file stops it, naming the variable) and SIGHUP (a bad file
 * is logged and the certificate in use stays): both go through loadTls(), which only returns
 * material a TLS server accepts — the key matches the certificate, and Node builds a secure
 * context from it — so a reload can never swap in something that breaks new handshakes.
 *
 * The private key lives only in `TlsMaterial.context` on its way to the servers; nothing here
 * logs it, and `describeCertificate` reports only public facts (subject, serial, expiry).
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer, type ServerOptions as HttpServerOptions } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { LicensegateError } from '../errors.ts';

/** The files as configured (paths, never contents). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CA of client certificates: set means mutual TLS on the agent port. */
  caFile?: string;
}

/** Public facts of the served certificate, for logs. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  serial: string;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
}

/** Checked TLS material: what setSecureContext() and https.createServer() take. */
export interface TlsMaterial {
  files: TlsFiles;
  /** cert (chain), key and, with a CA file, ca. Holds the private key: never log it. */
  context: SecureContextOptions;
  certificate: CertificateFacts;
}

export type HttpOrHttpsServer = HttpServer | HttpsServer;

/** Anything whose certificate can be swapped for new connections (https.Server, GatewayServer). */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

/**
 * TLS floor and handshake policy. TLS 1.2 is the oldest version offered (1.0/1.1 are broken and
 * deprecated, RFC 8996); Node's default cipher list (forward-secret AEAD suites) is kept as it is.
 */
export const TLS_MIN_VERSION = 'TLSv1.2' as const;

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new LicensegateError('TLS_INVALID', `${variable}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Reads and checks the files; throws TLS_INVALID naming the variable whose file is at fault. */
export function loadTls(files: TlsFiles): TlsMaterial {
  const cert = readPem('TLS_CERT_FILE', files.certFile);
  const key = readPem('TLS_KEY_FILE', files.keyFile);
  const ca = files.caFile === undefined ? undefined : readPem('TLS_CA_FILE', files.caFile);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new LicensegateError('TLS_INVALID', `TLS_CERT_FILE: ${files.certFile} is not a PEM certificate: ${(err as Error).message}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // The parser's message can quote the input: say only what is wrong.
    throw new LicensegateError('TLS_INVALID', `TLS_KEY_FILE: ${files.keyFile} is not an unencrypted PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new LicensegateError('TLS_INVALID', `TLS_KEY_FILE: ${files.keyFile} is not the key of the certificate in ${files.certFile}`);
  }
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new LicensegateError('TLS_INVALID', `TLS_CA_FILE: ${files.caFile} is not a PEM certificate: ${(err as Error).message}`);
    }
  }
  const context: SecureContextOptions = { cert, key, ...(ca ? { ca } : {}), minVersion: TLS_MIN_VERSION };
  try {
    createSecureContext(context); // what the server will do; fails here, not in a handshake
  } catch (err) {
    throw new LicensegateError('TLS_INVALID', `TLS_CERT_FILE/TLS_KEY_FILE: ${(err as Error).message}`);
  }
  return { files, context, certificate: describeCertificate(x509) };
}

export function describeCertificate(x509: X509Certificate): CertificateFacts {
  return {
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    serial: x509.serialNumber,
    validFrom: new Date(x509.validFrom).toISOString(),
    validTo: new Date(x509.validTo).toISOString(),
    fingerprint256: x509.fingerprint256,
  };
}

/**
 * An http server, or with `tls` an https one. `clientCertificates`: request a certificate from
 * every client and refuse the handshake without one the CA file vouches for (mutual TLS).
 */
export function createServerFor(tls: TlsMaterial | null | undefined, handler: RequestListener, clientCertificates = false, options: HttpServerOptions = {}): HttpOrHttpsServer {
  if (!tls) return createHttpServer(options, handler);
  const mutual = clientCertificates && tls.context.ca !== undefined;
  return createHttpsServer({ ...options, ...tls.context, requestCert: mutual, rejectUnauthorized: mutual }, handler);
}

/** Swaps the certificate of TLS servers for new handshakes; open connections keep theirs. Plain http servers are skipped. */
export function applyTls(targets: readonly (SecureContextTarget | HttpOrHttpsServer)[], tls: TlsMaterial): void {
  for (const t of targets) if ('setSecureContext' in t) t.setSecureContext(tls.context);
}
