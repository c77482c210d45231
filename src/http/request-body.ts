/**
 * Reads a JSON request body with a size bound: an admin API body is small (a serial key is at
 * most 16 KiB), so anything larger is refused as it arrives instead of being buffered.
 */
import type { IncomingMessage } from 'node:http';
import { LicensegateError } from '../errors.ts';

export const MAX_BODY_BYTES = 64 * 1024;

export async function readJsonBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new LicensegateError('PAYLOAD_TOO_LARGE', `at most ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new LicensegateError('PAYLOAD_TOO_LARGE', `at most ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new LicensegateError('UNSUPPORTED_MEDIA_TYPE', `got "${type || 'none'}"`);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (err) {
    throw new LicensegateError('INVALID_REQUEST', `body is not JSON (${(err as Error).message})`);
  }
}
