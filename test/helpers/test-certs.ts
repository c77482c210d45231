/**
 * Certificates made at test time (SPEC Z1 tests): a throwaway CA, server certificates for
 * 127.0.0.1 / localhost and client certificates, all from /usr/bin/openssl into a temp directory
 * that the caller removes. Nothing here is committed: keys exist only for the test's lifetime.
 * EC P-256 keys: fast to make, and what a production certificate commonly uses.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
