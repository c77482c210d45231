/**
 * Browser tests of the web console (SPEC H5; docs/console.md): a real `licensegate serve` on the
 * test Redis under a fresh key prefix (test/helpers/api-stack.ts), accounts with passwords made
 * through the accounts code, and Debian's chromium driven by playwright-core. Every page the
 * harness opens routes each request: loopback ones go through, anything else is aborted and
 * recorded in `stack.external` (the console must work offline). Everything is closed in afterAll.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll } from 'vitest';
import { AccountStore } from '../../src/accounts/account-store.ts';
import { hashPassword } from '../../src/accounts/password-hash.ts';
import { DEFAULT_SESSION_TIMES, SESSION_COOKIE, Sessions } from '../../src/accounts/sessions.ts';
import { PERMISSIONS, type Permission } from '../../src/licensing/permissions.ts';
import { createTestAccount } from '../helpers/accounts.ts';
import { startApiStack, type ApiAnswer, type ApiStack } from '../helpers/api-stack.ts';
import { mintKey } from '../helpers/ledger.ts';

export { mintKey };

export { PERMISSIONS };
export const ALL: Permission[] = [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants];
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(import.meta.dirname, '../../docs/screenshots');
export const LAPTOP = { width: 1366, height: 768 } as const;
export const TABLET = { width: 768, height: 1024 } as const;
/** A password that passes the policy (12+ characters). */
export const PASSWORD = 'console-test-password-1';

export interface ConsoleAccountInput {
  name: string;
  /** Default: PASSWORD. */
  password?: string;
  /** Default: 'default'. */
  tenantId?: string;
  /** Default: all three (a technician); [] is read-only. */
  permissions?: readonly Permission[];
}

export interface ConsoleAccount {
  id: string;
  name: string;
  password: string;
  tenantId: string;
  /** A bearer token of the account, for set-up calls through the API. */
  apiToken: string;
}

export interface ConsoleStack {
  api: ApiStack;
  /** `http://127.0.0.1:<port>` of the HTTP port (the console is at `${base}/`). */
  base: string;
  accounts: Map<string, ConsoleAccount>;
  /** A default-tenant technician's token for set-up calls (tenants, grants, keys) through the API. */
  adminToken: string;
  /** A call to /api/v1 as a bearer token (default: the harness's technician). */
  call(method: string, path: string, body?: unknown, token?: string): Promise<ApiAnswer>;
  /** Requests to anything but loopback that pages of this stack attempted (all aborted). */
  external: string[];
  /** A new browser context and page on this stack (viewport: LAPTOP), routed offline. */
  newPage(o?: { viewport?: { width: number; height: number } }): Promise<Page>;
  /** Ends the page's session on the server as an expiry would (the session key is gone). */
  expireSession(page: Page): Promise<void>;
  stop(): Promise<void>;
}

let sharedBrowser: Promise<Browser> | undefined;
const stacks = new Set<ConsoleStack>();
const contexts = new Set<BrowserContext>();

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  contexts.clear();
  for (const s of stacks) await s.stop().catch(() => {});
  if (sharedBrowser) {
    const b = await sharedBrowser.catch(() => undefined);
    sharedBrowser = undefined;
    await b?.close().catch(() => {});
  }
});

/** One chromium per test file (headless, --no-sandbox: the tests run as root). */
export function browser(): Promise<Browser> {
  sharedBrowser ??= chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  return sharedBrowser;
}

function isLoopback(url: string): boolean {
  try {
    const u = new URL(url);
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
    return u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
  } catch {
    return false;
  }
}

export interface ConsoleStackOptions {
  accounts: ConsoleAccountInput[];
  /**
   * Serial keys (mintKey(…) texts) activated through the API before anything else. Default: one
   * multi-tenant key (10 workstation, 5 linux, 5 pam-seat) when an account names another tenant.
   */
  serialKeys?: string[];
  label?: string;
  env?: Record<string, string>;
}

export async function startConsoleStack(o: ConsoleStackOptions): Promise<ConsoleStack> {
  const api = await startApiStack(o.label ?? 'con', o.env ?? {});
  const store = new AccountStore(api.redis, api.keys);
  const accounts = new Map<string, ConsoleAccount>();
  const admin = await createTestAccount(api.redis, api.keys, { name: `harness-${Math.random().toString(36).slice(2, 8)}`, tenantId: 'default', permissions: ALL });
  const call = (method: string, path: string, body?: unknown, token = admin.apiToken) => api.call(token, method, path, body);
  // Keys and the tenants the accounts belong to are made through the API (admin jobs), as a person would.
  const tenants = new Set(o.accounts.map((a) => a.tenantId ?? 'default').filter((t) => t !== 'default'));
  const serialKeys = o.serialKeys ?? (tenants.size > 0 ? [mintKey({ workstation: 10, linux: 5, 'pam-seat': 5 }, { multiTenant: true })] : []);
  for (const key of serialKeys) {
    const r = await call('POST', '/serial-keys', { key });
    if (r.status !== 200 && r.status !== 201) throw new Error(`could not activate a serial key: ${r.status} ${r.text}`);
  }
  for (const t of tenants) {
    const r = await call('POST', '/tenants', { name: t, tenantId: t });
    if (r.status !== 201 && r.status !== 200) throw new Error(`could not create tenant ${t}: ${r.status} ${r.text}`);
  }
  for (const a of o.accounts) {
    const tenantId = a.tenantId ?? 'default';
    const password = a.password ?? PASSWORD;
    const { account, apiToken } = await createTestAccount(api.redis, api.keys, { name: a.name, tenantId, permissions: a.permissions ?? ALL });
    await store.setPasswordHash(account.id, await hashPassword(password));
    accounts.set(a.name, { id: account.id, name: account.name, password, tenantId, apiToken });
  }
  const external: string[] = [];
  const ownContexts = new Set<BrowserContext>();
  const stack: ConsoleStack = {
    api,
    base: api.base,
    accounts,
    adminToken: admin.apiToken,
    call,
    external,
    async newPage(po = {}) {
      const context = await (await browser()).newContext({ viewport: po.viewport ?? LAPTOP, baseURL: api.base });
      contexts.add(context);
      ownContexts.add(context);
      await context.route('**/*', async (route) => {
        const url = route.request().url();
        if (isLoopback(url)) return route.continue();
        external.push(url);
        return route.abort('blockedbyclient');
      });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      return page;
    },
    async expireSession(page) {
      const cookie = (await page.context().cookies()).find((c) => c.name === SESSION_COOKIE);
      if (!cookie) throw new Error('the page has no session cookie');
      await new Sessions(api.redis, api.keys, DEFAULT_SESSION_TIMES).destroy(cookie.value);
    },
    async stop() {
      stacks.delete(stack);
      for (const c of ownContexts) {
        contexts.delete(c);
        await c.close().catch(() => {});
      }
      await api.stop();
    },
  };
  stacks.add(stack);
  return stack;
}

/** Opens the console's sign-in page, signs in and waits for the overview. */
export async function signIn(page: Page, name: string, password: string = PASSWORD): Promise<void> {
  await page.goto('/#/sign-in');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}

/** `docs/screenshots/<name>.png` of the viewport (1366×768 unless the page was made otherwise). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  return path;
}
