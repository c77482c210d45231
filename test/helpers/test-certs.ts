/**
 * Certificates made at test time (SPEC Z1 tests): a throwaway CA, server certificates for
 * 127.0.0.1 / localhost and client certificates, all from /usr/bin/openssl into a temp directory
 * that the caller removes. Nothing here is committed: keys exist only for the test's lifetime.
 * EC P-256 keys: fast to make, and what a production certificate commonly uses.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPENSSL = '/usr/bin/openssl';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The CA certificate (PEM path): what clients trust, and TLS_CA_FILE for client certificates. */
  ca: string;
  /** A server certificate for 127.0.0.1 and localhost, CN `cn`, serial `serial`, signed by the CA. */
  server(cn: string, serial: number): CertFiles;
  /** A client certificate (clientAuth), CN `cn`, signed by the CA. */
  client(cn: string): CertFiles;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

/** A new CA in a new temp directory (`label` names it). */
export function createTestPki(label = 'lg-tls'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${label} test CA`], dir);
  let next = 0;
  const issue = (cn: string, serial: number, ext: string): CertFiles => {
    const base = `${++next}-${cn.replace(/[^A-Za-z0-9.-]/g, '_')}`;
    writeFileSync(join(dir, `${base}.ext`), ext);
    openssl(['req', '-new', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`], dir);
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(serial), '-days', '2', '-out', `${base}.pem`, '-extfile', `${base}.ext`], dir);
    return { cert: join(dir, `${base}.pem`), key: join(dir, `${base}.key`) };
  };
  let clientSerial = 9000;
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    server: (cn, serial) => issue(cn, serial, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n'),
    client: (cn) => issue(cn, ++clientSerial, 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The gateway's environment for TLS with `server` (and mutual TLS with `clientCa`). */
export function tlsEnv(server: CertFiles, clientCa?: string): Record<string, string> {
  return { TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key, ...(clientCa ? { TLS_CA_FILE: clientCa } : {}) };
}

export interface TlsProbe {
  /** The handshake completed (and, with a client certificate asked for, the server accepted it). */
  ok: boolean;
  /** The served certificate's serial (hex, as X509Certificate prints it) and subject CN. */
  serial?: string;
  subjectCn?: string;
  /** Node's error code of a failed handshake (e.g. UNABLE_TO_GET_ISSUER_CERT_LOCALLY, ECONNRESET). */
  error?: string;
}

/**
 * One TLS handshake to 127.0.0.1:port trusting `ca`, optionally with a client certificate.
 * Under TLS 1.3 a server that refuses the client's certificate says so after the client's side
 * of the handshake is done, so the probe also waits briefly for that alert before calling it ok.
 */
export function tlsProbe(port: number, opts: { ca?: string; client?: CertFiles; timeoutMs?: number } = {}): Promise<TlsProbe> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      ...(opts.ca ? { ca: readFileSync(opts.ca) } : {}),
      ...(opts.client ? { cert: readFileSync(opts.client.cert), key: readFileSync(opts.client.key) } : {}),
    });
    let result: TlsProbe | undefined;
    const finish = (r: TlsProbe) => {
      if (result) return;
      result = r;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'TIMEOUT' }), opts.timeoutMs ?? 5_000);
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: err.code ?? err.message }));
    socket.on('close', () => finish({ ok: false, error: 'CLOSED' }));
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      const cn = peer.subject?.CN;
      const facts = { serial: peer.serialNumber, subjectCn: Array.isArray(cn) ? cn.join(',') : cn };
      // A refused client certificate arrives as an alert right after: give it a moment.
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      socket.once('data', () => finish({ ok: true, ...facts }));
    });
  });
}

/** GET over https trusting `ca`; resolves with the status and JSON body. */
export function httpsGetJson(url: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca: readFileSync(ca), timeout: 5_000 }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
