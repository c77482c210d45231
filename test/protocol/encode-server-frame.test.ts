import { describe, expect, it } from 'vitest';
import { encodeCommand, encodeError, encodeHeartbeatAck, encodeWelcome } from '../../src/protocol/encode-server-frame.ts';
import { LicenseType, ServerFrame } from '../../src/protocol/wire.ts';

const decode = (b: Uint8Array) => ServerFrame.toObject(ServerFrame.decode(b), { defaults: true, oneofs: true });

describe('server frames', () => {
  it('C2: Welcome carries the credential only when given, and the license state', () => {
    const first = decode(encodeWelcome({ clientId: 'c', clientCredential: 's3cret', licensed: true, licenseType: LicenseType.LICENSE_TYPE_LINUX, reason: '', heartbeatIntervalMs: 15000 }));
    expect(first.body).toBe('welcome');
    expect(first.welcome).toMatchObject({ clientId: 'c', clientCredential: 's3cret', heartbeatIntervalMs: 15000, license: { licensed: true, type: LicenseType.LICENSE_TYPE_LINUX, reason: '' } });
    const later = decode(encodeWelcome({ clientId: 'c', licensed: false, licenseType: LicenseType.LICENSE_TYPE_LINUX, reason: 'NO_LICENSE_AVAILABLE', heartbeatIntervalMs: 1000 }));
    expect(later.welcome).toMatchObject({ clientCredential: '', license: { licensed: false, type: LicenseType.LICENSE_TYPE_UNSPECIFIED, reason: 'NO_LICENSE_AVAILABLE' } });
  });

  it('C7: commands keep their seq and kind', () => {
    expect(decode(encodeCommand(3, { kind: 'startMonitoring', licenseType: LicenseType.LICENSE_TYPE_WORKSTATION })).command).toMatchObject({
      seq: 3,
      kind: 'startMonitoring',
      startMonitoring: { licenseType: LicenseType.LICENSE_TYPE_WORKSTATION },
    });
    expect(decode(encodeCommand(4, { kind: 'stopMonitoring', reason: 'UNASSIGNED_BY_ADMIN' })).command).toMatchObject({ seq: 4, kind: 'stopMonitoring', stopMonitoring: { reason: 'UNASSIGNED_BY_ADMIN' } });
    expect(decode(encodeCommand(5, { kind: 'uninstall' })).command).toMatchObject({ seq: 5, kind: 'uninstall' });
  });

  it('C13: Error carries code, message and retry hint', () => {
    expect(decode(encodeError('OVERLOADED', 'busy', 1500)).error).toEqual({ code: 'OVERLOADED', message: 'busy', retryAfterMs: 1500 });
  });

  it('C4: HeartbeatAck carries the server time', () => {
    expect(decode(encodeHeartbeatAck(1_700_000_000_123)).heartbeatAck).toEqual({ serverTimeMs: 1_700_000_000_123 });
  });
});
