import type { Route } from '../router.ts';
import type { Session } from '../session.ts';

/** What every page gets from the shell (console/src/app.tsx). */
export interface PageProps {
  session: Session;
  route: Route;
  /**
   * The tenant the page shows: the account's own, or, for a default-tenant account, the one
   * picked in the header's TenantPicker.
   */
  tenantId: string;
}
