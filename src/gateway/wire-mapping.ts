/** Converts between wire enums (src/protocol) and licensing names (src/licensing). */
import type { ClientCommand } from '../delivery/client-command.ts';
import type { EndpointLicenseType } from '../licensing/license-types.ts';
import type { OsFacts } from '../licensing/os-license-map.ts';
import type { CommandBody, OsReport } from '../protocol/client-message.ts';
import { LicenseType, OsFamily, ProductType } from '../protocol/wire.ts';

const FAMILY: Record<number, OsFacts['family']> = {
  [OsFamily.OS_FAMILY_UNSPECIFIED]: 'unspecified',
  [OsFamily.OS_FAMILY_WINDOWS]: 'windows',
  [OsFamily.OS_FAMILY_MACOS]: 'macos',
  [OsFamily.OS_FAMILY_LINUX]: 'linux',
};
const PRODUCT: Record<number, OsFacts['productType']> = {
  [ProductType.PRODUCT_TYPE_UNSPECIFIED]: 'unspecified',
  [ProductType.PRODUCT_TYPE_WORKSTATION]: 'workstation',
  [ProductType.PRODUCT_TYPE_SERVER]: 'server',
};
const LICENSE_TO_WIRE: Record<EndpointLicenseType, LicenseType> = {
  workstation: LicenseType.LICENSE_TYPE_WORKSTATION,
  'terminal-server': LicenseType.LICENSE_TYPE_TERMINAL_SERVER,
  'infrastructure-server': LicenseType.LICENSE_TYPE_INFRASTRUCTURE_SERVER,
  'cloud-server': LicenseType.LICENSE_TYPE_CLOUD_SERVER,
  linux: LicenseType.LICENSE_TYPE_LINUX,
};

export function osFactsFromReport(os: OsReport): OsFacts {
  return {
    family: FAMILY[os.family] ?? 'unspecified',
    productType: PRODUCT[os.productType] ?? 'unspecified',
    multiSession: os.multiSession,
    cloudProvider: os.cloudProvider,
  };
}

export function licenseTypeToWire(type: EndpointLicenseType | null): LicenseType {
  return type ? LICENSE_TO_WIRE[type] : LicenseType.LICENSE_TYPE_UNSPECIFIED;
}

export function commandToWire(cmd: ClientCommand): CommandBody {
  switch (cmd.kind) {
    case 'start':
      return { kind: 'startMonitoring', licenseType: LICENSE_TO_WIRE[cmd.licenseType] };
    case 'stop':
      return { kind: 'stopMonitoring', reason: cmd.reason };
    case 'uninstall':
      return { kind: 'uninstall' };
  }
}
