/**
 * The console's shell in a real browser (SPEC H5, H2, T6): sign-in, the nav by account, sign-out,
 * session expiry, offline (no request leaves loopback, no external URL in the assets), the CSP
 * (and no violation of it), the keyboard path through the sign-in form, the Overview page's
 * figures, and the screenshots `sign-in`, `overview`, `overview-tablet`.
 * Harness: test/console/harness.ts (a real `licensegate serve`, Debian's chromium).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { AccountService } from '../../src/accounts/account-service.ts';
import { LoginLimiter } from '../../src/accounts/login-limiter.ts';
import { enrolledAgent, OS } from '../helpers/agents.ts';
import { mintKey, PASSWORD, screenshot, signIn, startConsoleStack, TABLET, type ConsoleStack } from './harness.ts';

let stack: ConsoleStack;
const agents: Agent[] = [];
const DAY = 86_400_000;

beforeAll(async () => {
  stack = await startConsoleStack({
    label: 'cshell',
    // One multi-tenant key expiring in 12 days (the 15-day warning), 4 linux licenses for 5 linux agents (an exhausted pool).
    serialKeys: [mintKey({ workstation: 10, linux: 4, 'pam-seat': 5 }, { multiTenant: true, expiresAt: Date.now() + 12 * DAY })],
    accounts: [{ name: 'tech' }, { name: 'viewer', tenantId: 'acme', permissions: [] }, { name: 'reader', permissions: [] }, { name: 'locked' }],
  });
  for (let i = 0; i < 6; i++) agents.push(await enrolledAgent(stack.api.gw.url, { os: OS.windows }));
  for (let i = 0; i < 5; i++) agents.push(await enrolledAgent(stack.api.gw.url, { os: OS.linux }));
});

afterAll(async () => {
  for (const a of agents) a.terminate();
  await stack?.stop();
});

/** Console errors of a page, CSP violations included. */
function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

const navLinks = (page: Page) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();

describe('console shell (H5)', () => {
  it('H5 H2: a wrong password shows LOGIN_FAILED; the right one opens the overview; no CSP violation', async () => {
    const page = await stack.newPage();
    const errors = consoleErrors(page);
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(page.url()).toMatch(/#\/sign-in/);
    await screenshot(page, 'sign-in');
    await page.getByLabel('Name', { exact: true }).fill('tech');
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('LOGIN_FAILED');
    expect(await alert.textContent()).toContain('The name or the password is wrong.');
    await signIn(page, 'tech', PASSWORD);
    expect(page.url()).toMatch(/#\/overview$/);
    expect(await page.getByTestId('account-name').textContent()).toContain('tech');
    // The sign-in and the failed login were the only errors the browser logged (the 401 of the probe and the login).
    expect(errors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
    await page.context().close();
  });

  it('H5 H2: a locked account sees LOGIN_RATE_LIMITED with the wait', async () => {
    // Eight failed logins from another address (the real limiter): the account is locked for 8 s.
    const limiter = new LoginLimiter(stack.api.redis, stack.api.keys);
    for (let i = 0; i < 8; i++) await limiter.failed('locked', '192.0.2.7');
    const page = await stack.newPage();
    await page.goto('/#/sign-in');
    await page.getByLabel('Name', { exact: true }).fill('locked');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('LOGIN_RATE_LIMITED');
    expect(await alert.textContent()).toMatch(/Try again in [1-8] seconds\./);
    await page.context().close();
  });

  it('H5 H2: first run: the one-time set-up link sets the password and leads to the console, where the account signs in', async () => {
    const service = new AccountService({ redis: stack.api.redis, keys: stack.api.keys });
    const { setupToken } = await service.createAccount({ name: 'newbie', tenantId: 'default', permissions: [] }, 'test');
    const page = await stack.newPage();
    await page.goto(`/setup#token=${setupToken}`);
    await page.getByLabel('New password').fill('a brand new password');
    await page.getByLabel('Repeat the password').fill('a brand new password');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('link', { name: 'Sign in to the console' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signIn(page, 'newbie', 'a brand new password');
    await page.context().close();
  });

  it('H5 H2 T6: the nav shows only the pages an account may use; a read-only account sees no action', async () => {
    const tech = await stack.newPage();
    await signIn(tech, 'tech');
    expect(await navLinks(tech)).toEqual(['Overview', 'License Management', 'Serial Keys', 'Licenses Granted', 'Tenants', 'User Management', 'Audit']);
    await expect.poll(() => tech.getByLabel('Tenant').locator('option').allTextContents()).toEqual(expect.arrayContaining(['default', expect.stringContaining('acme')]));
    await tech.context().close();

    const viewer = await stack.newPage();
    await signIn(viewer, 'viewer');
    expect(await navLinks(viewer)).toEqual(['Overview', 'License Management', 'Tenants', 'User Management', 'Audit']);
    expect(await viewer.locator('header').textContent()).toContain('read-only');
    expect(await viewer.locator('header').textContent()).toContain('acme');
    expect(await viewer.getByLabel('Tenant').count()).toBe(0); // no tenant picker: its own tenant only
    // A system page typed into the address is not there for it.
    await viewer.goto('/#/keys');
    await viewer.getByRole('heading', { name: 'Not found' }).waitFor();
    await viewer.context().close();
  });

  it('H5 H2: sign-out ends the session on the server and shows the sign-in page', async () => {
    const page = await stack.newPage();
    await signIn(page, 'reader');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('status').first().textContent()).toContain('You are signed out.');
    const status = await page.evaluate(async () => (await fetch('/api/v1/auth/session')).status);
    expect(status).toBe(401);
    await page.goto('/#/overview'); // the address of a page, signed out: back to sign-in
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(page.url()).toContain('#/sign-in?next=');
    await page.context().close();
  });

  it('H5 H2: an expired session sends the app back to sign-in with a message, then back to the page', async () => {
    const page = await stack.newPage();
    await signIn(page, 'tech');
    await page.getByRole('link', { name: 'Audit' }).click();
    await stack.expireSession(page);
    await page.getByRole('link', { name: 'Overview' }).click(); // its first API call answers 401
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('status').first().textContent()).toContain('Your session has ended');
    await page.getByLabel('Name', { exact: true }).fill('tech');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.context().close();
  });

  it('H5: the overview shows online now, licensed vs waiting, enrollments, key expiry (15-day warning) and overload', async () => {
    const page = await stack.newPage();
    await signIn(page, 'tech');
    await expect.poll(() => page.getByTestId('online-now').textContent()).toBe('11');
    expect(await page.getByTestId('licensed').textContent()).toBe('10'); // 6 workstation + 4 linux
    expect(await page.getByTestId('waiting').textContent()).toBe('1'); // the fifth linux agent
    expect(await page.getByTestId('enrollments').textContent()).toBe('11');
    expect(await page.getByTestId('key-expiry').textContent()).toMatch(/^1[12] days/);
    expect(await page.locator('#card-keys + p + p').textContent()).toContain('Expires within 15 days.');
    expect(Number(await page.getByTestId('overload').textContent())).toBeGreaterThanOrEqual(1); // linux pool exhausted
    const linuxRow = page.getByRole('row').filter({ hasText: 'linux' });
    expect(await linuxRow.getByRole('meter').getAttribute('aria-valuetext')).toBe('4 of 4 (100 %)');
    await screenshot(page, 'overview');
    await page.context().close();

    const tablet = await stack.newPage({ viewport: TABLET });
    await signIn(tablet, 'tech');
    await expect.poll(() => tablet.getByTestId('online-now').textContent()).toBe('11');
    // Readable on a tablet: nothing wider than the viewport.
    expect(await tablet.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(TABLET.width);
    await screenshot(tablet, 'overview-tablet');
    await tablet.context().close();
  });

  it('H5: the overview of another tenant is refused to a tenant admin (server-side, T6)', async () => {
    const page = await stack.newPage();
    await signIn(page, 'viewer');
    const status = await page.evaluate(async () => (await fetch('/api/v1/tenants/default/overview')).status);
    expect(status).toBe(403);
    await page.context().close();
  });

  it('H5: keyboard: Tab reaches the name, the password and the button; Enter signs in', async () => {
    const page = await stack.newPage();
    await page.goto('/#/sign-in');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // Start the Tab sequence before the form's fields (the heading is not focusable).
    await page.getByRole('heading', { name: 'Sign in' }).click();
    const reached: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      // (A string: the test's own tsconfig has no DOM types.)
      reached.push(await page.evaluate<string>("(e => e ? e.id || e.tagName.toLowerCase() + ':' + (e.textContent || '').trim() : '')(document.activeElement)"));
    }
    expect(reached.slice(0, 3)).toEqual(['sign-in-name', 'sign-in-password', 'button:Sign in']);
    // Focus is visible: the focused button draws an outline.
    await page.getByRole('button', { name: 'Sign in' }).focus();
    expect(await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.getByLabel('Name', { exact: true }).focus();
    await page.keyboard.type('tech');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.context().close();
  });

  it('H5: offline: no page of these tests asked for anything beyond loopback; the assets name no external URL', async () => {
    const page = await stack.newPage();
    await signIn(page, 'tech');
    for (const link of await navLinks(page)) {
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: link, exact: true }).click();
      await page.locator('main h1').first().waitFor();
    }
    await page.context().close();
    expect(stack.external).toEqual([]);
    const html = await (await fetch(`${stack.base}/`)).text();
    const js = await (await fetch(`${stack.base}/console/app.js`)).text();
    const css = await (await fetch(`${stack.base}/console/app.css`)).text();
    // XML namespace names (Preact's SVG support) are identifiers, never fetched.
    const external = /(?:https?:)?\/\/(?!www\.w3\.org\/)[a-z0-9.-]+\.[a-z]{2,}[/"'`)]/gi;
    expect(html.match(external)).toBeNull();
    expect(js.match(external)).toBeNull();
    expect(css.match(external)).toBeNull();
    expect(css).not.toMatch(/@import|url\(/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    expect(html).not.toMatch(/<style|style=/); // no inline style
  });
});
