/** Typed server messages in, bytes out. Pure. */
import type { CommandBody } from './client-message.ts';
import { LicenseType, ServerFrame, type IServerFrame } from './wire.ts';
import type { LicenseType as WireLicenseType } from './wire.ts';

export interface WelcomeFields {
  clientId: string;
  /** Only on first registration. */
  clientCredential?: string;
  licensed: boolean;
  licenseType: WireLicenseType;
  reason: string;
  heartbeatIntervalMs: number;
}

function encode(frame: IServerFrame): Uint8Array {
  return ServerFrame.encode(frame).finish();
}

export function encodeWelcome(w: WelcomeFields): Uint8Array {
  return encode({
    welcome: {
      clientId: w.clientId,
      clientCredential: w.clientCredential ?? '',
      license: { licensed: w.licensed, type: w.licensed ? w.licenseType : LicenseType.LICENSE_TYPE_UNSPECIFIED, reason: w.reason },
      heartbeatIntervalMs: w.heartbeatIntervalMs,
    },
  });
}

export function encodeCommand(seq: number, body: CommandBody): Uint8Array {
  switch (body.kind) {
    case 'startMonitoring':
      return encode({ command: { seq, startMonitoring: { licenseType: body.licenseType } } });
    case 'stopMonitoring':
      return encode({ command: { seq, stopMonitoring: { reason: body.reason } } });
    case 'uninstall':
      return encode({ command: { seq, uninstall: {} } });
  }
}

export function encodeError(code: string, message: string, retryAfterMs = 0): Uint8Array {
  return encode({ error: { code, message, retryAfterMs } });
}

export function encodeHeartbeatAck(serverTimeMs: number): Uint8Array {
  return encode({ heartbeatAck: { serverTimeMs } });
}
