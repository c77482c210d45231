/**
 * A throw-away TLS certificate for a test run, made by the openssl CLI: self-signed for
 * 127.0.0.1 (IP SAN, so clients verify it without turning verification off) and its own CA.
 * Nothing is shared between runs; the key never leaves the run's temp dir.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsFiles } from './redis-process.ts';

export function makeTestCertificate(dir: string): TlsFiles {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'redis.crt');
  const keyFile = join(dir, 'redis.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore', timeout: 30_000 });
  return { certFile, keyFile, caFile: certFile };
}
