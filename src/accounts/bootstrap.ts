/**
 * The first admin (SPEC H2): a start that finds no account creates `technician` (default
 * tenant, every permission) without a password, and a one-time set-up link (24 h) to set it.
 * While the technician still has no password, every start makes a new link (the old one dies),
 * so a lost link is fixed by a restart.
 *
 * The link is a secret (Z2): like the first enrollment token, it is shown on stdout in the
 * zero-config mode only (the caller decides: `showLink`). With an operator's own Redis, stdout
 * goes to log collectors; the start then logs how to make a link instead
 * (`licensegate admin accounts reset-password technician`).
 */
import type { Logger } from 'pino';
import { LicensegateError } from '../errors.ts';
import { TECHNICIAN } from '../licensing/permissions.ts';
import { DEFAULT_TENANT, type Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import { AccountStore } from './account-store.ts';
import { SetupTokens } from './setup-tokens.ts';

export const TECHNICIAN_NAME = TECHNICIAN.userId;

export interface BootstrapResult {
  /** This start created the technician. */
  created: boolean;
  /** A new set-up token for the technician (only when `showLink` and it has no password yet). */
  setupToken: string | undefined;
}

export async function bootstrapAdmin(redis: RedisClient, keys: Keys, logger: Logger, options: { showLink: boolean }): Promise<BootstrapResult> {
  const accounts = new AccountStore(redis, keys);
  let created = false;
  if ((await accounts.count()) === 0) {
    try {
      await accounts.create({ id: TECHNICIAN_NAME, name: TECHNICIAN_NAME, tenantId: DEFAULT_TENANT, permissions: TECHNICIAN.permissions });
      created = true;
      logger.info({ accountId: TECHNICIAN_NAME, tenantId: DEFAULT_TENANT }, 'admin account technician created (no password yet)');
    } catch (err) {
      // Another process of the same deployment made it first.
      if (!(err instanceof LicensegateError && err.code === 'ACCOUNT_EXISTS')) throw err;
    }
  }
  const technician = await accounts.getStored(TECHNICIAN_NAME);
  if (!technician || technician.passwordSet || technician.disabled) return { created, setupToken: undefined };
  if (!options.showLink) {
    logger.warn({ accountId: TECHNICIAN_NAME }, 'the technician admin account has no password yet: make a one-time set-up link with `licensegate admin accounts reset-password technician`');
    return { created, setupToken: undefined };
  }
  const { token } = await new SetupTokens(redis, keys).issue(TECHNICIAN_NAME);
  logger.info({ accountId: TECHNICIAN_NAME }, 'set-up link for the technician issued (shown once on stdout)');
  return { created, setupToken: token };
}
