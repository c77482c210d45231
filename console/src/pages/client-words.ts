/**
 * Human words for what the Clients API answers (docs/client-pages.md): the reason codes a Client
 * holds no license for, relative times, and the license type an OS needs (SPEC L2's default
 * table, as a hint for the assign dialog; the server decides, from the type the agent's OS
 * mapped to at Hello).
 */

export const ENDPOINT_TYPES = ['workstation', 'terminal-server', 'infrastructure-server', 'cloud-server', 'linux'] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

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

/**
 * The type the default OS table (SPEC L2) gives this `os` ("windows/workstation", "linux", …),
 * or null when the list's OS text cannot tell (a Windows server: terminal, cloud or
 * infrastructure depends on facts the list does not carry — the server knows).
 */
export function osTypeHint(os: string): EndpointType | null {
  const [family, product] = os.split('/');
  if (family === 'linux') return 'linux';
  if (family === 'macos') return 'workstation';
  if (family === 'windows' && product === 'workstation') return 'workstation';
  return null;
}

export function osWords(os: string): string {
  if (!os) return 'unknown';
  const [family, product] = os.split('/');
  const f = family === 'macos' ? 'macOS' : family === 'windows' ? 'Windows' : family === 'linux' ? 'Linux' : family ?? '';
  return product ? `${f} ${product}` : f;
}
