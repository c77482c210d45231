import { describe, expect, it } from 'vitest';
import { DEFAULT_OS_LICENSE_MAP, licenseTypeForOs, osLicenseMapSchema, type OsFacts } from '../../src/licensing/os-license-map.ts';

const os = (o: Partial<OsFacts>): OsFacts => ({ family: 'unspecified', productType: 'unspecified', multiSession: false, cloudProvider: '', ...o });

describe('OS → license type table', () => {
  const rows: [string, OsFacts, string | null][] = [
    ['Windows desktop', os({ family: 'windows', productType: 'workstation' }), 'workstation'],
    ['Windows desktop reporting a cloud (desktops are never cloud servers)', os({ family: 'windows', productType: 'workstation', cloudProvider: 'azure' }), 'workstation'],
    ['macOS', os({ family: 'macos' }), 'workstation'],
    ['macOS on a cloud host', os({ family: 'macos', cloudProvider: 'aws' }), 'workstation'],
    ['Windows Server', os({ family: 'windows', productType: 'server' }), 'infrastructure-server'],
    ['Windows Server with RDS', os({ family: 'windows', productType: 'server', multiSession: true }), 'terminal-server'],
    ['Windows Server on a cloud', os({ family: 'windows', productType: 'server', cloudProvider: 'aws' }), 'cloud-server'],
    ['Windows Server with RDS on a cloud', os({ family: 'windows', productType: 'server', multiSession: true, cloudProvider: 'gcp' }), 'cloud-server'],
    ['Linux', os({ family: 'linux' }), 'linux'],
    ['Linux server on a cloud', os({ family: 'linux', productType: 'server', cloudProvider: 'aws' }), 'linux'],
    ['Windows without an edition', os({ family: 'windows' }), null],
    ['no OS reported', os({}), null],
  ];
  for (const [name, facts, type] of rows) {
    it(`L2: ${name} → ${type ?? 'no type (NO_MATCHING_TYPE)'}`, () => {
      expect(licenseTypeForOs(facts)).toBe(type);
    });
  }

  it('L2: the table is data an operator can replace', () => {
    const custom = osLicenseMapSchema.parse([{ family: 'linux', cloud: true, type: 'cloud-server' }, ...DEFAULT_OS_LICENSE_MAP]);
    expect(licenseTypeForOs(os({ family: 'linux', cloudProvider: 'aws' }), custom)).toBe('cloud-server');
    expect(licenseTypeForOs(os({ family: 'linux' }), custom)).toBe('linux');
    expect(() => osLicenseMapSchema.parse([{ family: 'beos', type: 'linux' }])).toThrow();
    expect(() => osLicenseMapSchema.parse([{ family: 'linux', type: 'pam-seat' }])).toThrow();
  });
});
