/**
 * SIGHUP's work (SPEC Z1): reread TLS_CERT_FILE / TLS_KEY_FILE / TLS_CA_FILE and give both
 * servers the new certificate with setSecureContext(). Only new handshakes see it; open agent
 * connections keep the TLS session they have, so a certificate renewal disconnects nobody.
 *
 * A file that cannot be used (half-written by a renewal, a key that does not match) is logged
 * with its coded error and nothing changes: the certificate in use keeps being served, and the
 * next SIGHUP tries again. Logs carry the certificate's public facts only, never key material.
 */
import type { Logger } from 'pino';
import { toLicensegateError } from '../errors.ts';
import { applyTls, loadTls, type CertificateFacts, type HttpOrHttpsServer, type SecureContextTarget, type TlsFiles } from './tls-context.ts';

export type TlsReload =
  | { outcome: 'reloaded'; certificate: CertificateFacts }
  | { outcome: 'failed'; code: string; message: string }
  | { outcome: 'not-configured' };

export function reloadTls(files: TlsFiles | undefined, targets: readonly (SecureContextTarget | HttpOrHttpsServer)[], logger: Logger): TlsReload {
  if (!files) {
    logger.info('SIGHUP: TLS is not configured (TLS_CERT_FILE/TLS_KEY_FILE); nothing to reload');
    return { outcome: 'not-configured' };
  }
  let material;
  try {
    material = loadTls(files);
    applyTls(targets, material);
  } catch (err) {
    const e = toLicensegateError(err);
    logger.error({ code: e.code, detail: e.message }, 'tls certificate reload failed; the previous certificate is still served');
    return { outcome: 'failed', code: e.code, message: e.message };
  }
  const c = material.certificate;
  logger.info({ subject: c.subject, serial: c.serial, validTo: c.validTo, fingerprint256: c.fingerprint256 }, 'tls certificate reloaded');
  return { outcome: 'reloaded', certificate: c };
}
