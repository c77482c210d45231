/**
 * SIGHUP to `licensegate serve` reloads the TLS certificate (SPEC Z1, docs/tls.md): what
 * `systemctl reload` (ExecReload=kill -HUP $MAINPID) and a certbot deploy hook send. Without TLS
 * it logs that there is nothing to reload — a SIGHUP no longer ends the process, so a reload
 * sent to a plain gateway cannot take it down.
 */
import type { Logger } from 'pino';
import type { RunningService } from '../serve.ts';

/** Installs the handler (synchronously, before the ready line); returns its removal. */
export function reloadOnHangup(service: Pick<RunningService, 'reloadTls'>, logger: Logger): () => void {
  const onHangup = () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading tls certificate');
    service.reloadTls();
  };
  process.on('SIGHUP', onHangup);
  return () => process.off('SIGHUP', onHangup);
}
