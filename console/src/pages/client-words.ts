/**
 * Human words for what the Clients API answers (docs/client-pages.md): the reason codes a Client
 * holds no license for and relative times. The endpoint license types are the server's own list
 * (src/licensing/license-types.ts, dependency-free, bundled); the type a Client's OS maps to comes
 * with each row (`osType`), computed by the server from its OS table.
 */
export { ENDPOINT_LICENSE_TYPES as ENDPOINT_TYPES, type EndpointLicenseType as EndpointType } from '../../../src/licensing/license-types.ts';

/** Why a Client holds no license, in words (reason codes of src/store/lua/*). */
export function reasonWords(reason: string): string {
  switch (reason) {
    case 'NO_LICENSE_AVAILABLE':
      return 'Waiting for a free license';
    case 'NO_MATCHING_TYPE':
      return 'No license type fits its OS';
    case 'UNASSIGNED_BY_ADMIN':
      return 'Unassigned by an admin (stays so until assigned)';
    case 'KEY_EXPIRED':
      return 'Its serial key expired (waiting for a license)';
    case 'KEY_REMOVED':
      return 'Its serial key was removed (waiting for a license)';
    case 'UNINSTALLED':
      return 'Uninstalled';
    case '':
      return 'No license';
    default:
      return reason.toLowerCase().replace(/_/g, ' ');
  }
}

/** "5 s ago", "3 min ago", "2 h ago", "4 days ago"; 0 = never. */
export function relativeTime(ms: number, now: number = Date.now()): string {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

export function exactTime(ms: number): string {
  return ms ? new Date(ms).toLocaleString() : 'never seen';
}

export function osWords(os: string): string {
  if (!os) return 'unknown';
  const [family, product] = os.split('/');
  const f = family === 'macos' ? 'macOS' : family === 'windows' ? 'Windows' : family === 'linux' ? 'Linux' : family ?? '';
  return product ? `${f} ${product}` : f;
}
