/**
 * The console's shell in a real browser (SPEC H5, H2, T6): the nav by account, sign-out, session
 * expiry. Sign-in itself: sign-in.test.ts; the Overview page and the offline checks:
 * overview.test.ts. Harness: test/console/harness.ts.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, signIn, startConsoleStack, type ConsoleStack } from './harness.ts';

let stack: ConsoleStack;

beforeAll(async () => {
  stack = await startConsoleStack({
    label: 'cshell',
    accounts: [{ name: 'tech' }, { name: 'viewer', tenantId: 'acme', permissions: [] }, { name: 'reader', permissions: [] }],
  });
});

afterAll(async () => {
  await stack?.stop();
});

const navLinks = (page: Page) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();

describe('console shell (H5)', () => {
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
    await viewer.getByTestId('online-now').waitFor();
    expect(await viewer.locator('main button:not(.sort)').allTextContents()).toEqual(['Refresh']); // reading only (column sorting aside)
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
    await page.locator('#audit-table[data-loaded="true"]').waitFor(); // the Audit page's own first call answered before the session ends
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

  it('H5 H2 H3: a session that ends while a live page is open returns it to sign-in without a click (the stream ends with event: end)', async () => {
    const page = await stack.newPage();
    await signIn(page, 'tech');
    const streamOpen = page.waitForResponse((r) => r.url().includes('/api/v1/events') && r.status() === 200);
    await page.goto('/#/keys'); // live (SSE), and no polling of its own
    await page.locator('#availability-table tr[data-type]').first().waitFor(); // its own calls answered
    await streamOpen;
    await stack.expireSession(page);
    const t0 = performance.now();
    // The server re-checks an open stream's credential every 5 s.
    await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
    console.log(`[console] session ended → sign-in page, no click: ${Math.round(performance.now() - t0)} ms`);
    expect(await page.getByRole('status').first().textContent()).toContain('Your session has ended');
    await page.context().close();
  }, 30_000);
});
