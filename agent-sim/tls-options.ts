/**
 * agent-sim over wss:// (SPEC Z1): `--ca FILE` (the CA that signed the gateway's certificate,
 * trusted in addition to nothing else: a test CA need not be installed system-wide) and
 * `--cert FILE --key FILE` (a client certificate for a gateway with TLS_CA_FILE).
 *
 * The command line keeps paths only (they travel to worker processes over IPC); each process
 * reads the files once and builds ONE secure context that every agent's socket shares — a
 * context per socket would parse the CA and key again on every connect of a storm.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';

/** The TLS files of a run (paths). */
export interface TlsFlags {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** What the agents' WebSocket (tls.connect) options get. */
export interface ClientTls {
  secureContext: SecureContext;
}

/**
 * Checks the flags against the URL's scheme; returns the problem as one line (options.ts makes
 * it a UsageError), or the flags. Touches no file.
 */
export function checkTlsFlags(flags: TlsFlags, protocol: string): TlsFlags | string {
  const given = Object.entries(flags).filter(([, v]) => v !== undefined);
  for (const [name, v] of given) if (v === '') return `--${name.replace(/File$/, '')}: needs a file name`;
  if ((flags.certFile === undefined) !== (flags.keyFile === undefined)) return '--cert and --key go together (a client certificate and its key)';
  if (given.length > 0 && protocol !== 'wss:') return '--ca, --cert and --key need a wss:// --url';
  return Object.fromEntries(given) as TlsFlags;
}

/** Reads the files into one shared secure context; undefined when no flag was given. Throws an Error naming the flag. */
export function clientTls(flags: TlsFlags | undefined): ClientTls | undefined {
  if (!flags || (flags.caFile === undefined && flags.certFile === undefined)) return undefined;
  const read = (flag: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const ca = read('--ca', flags.caFile);
  const cert = read('--cert', flags.certFile);
  const key = read('--key', flags.keyFile);
  try {
    // With `ca`, only that CA is trusted (plus nothing from the system store): what a test or a
    // private deployment wants. Without --ca the system's CAs verify the gateway as usual.
    return { secureContext: createSecureContext({ ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), minVersion: 'TLSv1.2' }) };
  } catch (err) {
    throw new Error(`--ca/--cert/--key: ${(err as Error).message}`);
  }
}
