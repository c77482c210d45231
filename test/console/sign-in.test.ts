/**
 * Signing in to the console in a real browser (SPEC H5, H2): a wrong password (LOGIN_FAILED), a
 * locked account (LOGIN_RATE_LIMITED with its wait), the first run through the one-time set-up
 * link, the keyboard path through the form, no CSP violation; the `sign-in` screenshot.
 * Harness: test/console/harness.ts.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../src/accounts/account-service.ts';
import { LoginLimiter } from '../../src/accounts/login-limiter.ts';
import { PASSWORD, screenshot, signIn, startConsoleStack, type ConsoleStack } from './harness.ts';

let stack: ConsoleStack;

beforeAll(async () => {
  stack = await startConsoleStack({ label: 'csign', accounts: [{ name: 'tech' }, { name: 'locked' }] });
});

afterAll(async () => {
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

describe('console sign-in (H5 H2)', () => {
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
});
