/**
 * The console's shell in a real browser (SPEC H5, H2): sign-in, nav by permission, sign-out,
 * session expiry, offline, CSP, keyboard, screenshots. Harness: test/console/harness.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, signIn, startConsoleStack, type ConsoleStack } from './harness.ts';

let stack: ConsoleStack;

beforeAll(async () => {
  stack = await startConsoleStack({
    label: 'cshell',
    accounts: [{ name: 'tech' }, { name: 'viewer', tenantId: 'acme', permissions: [] }],
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('console shell', () => {
  it('H5 H2: a wrong password shows LOGIN_FAILED; the right one opens the overview', async () => {
    const page = await stack.newPage();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('tech');
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('LOGIN_FAILED');
    await signIn(page, 'tech', PASSWORD);
    expect(page.url()).toMatch(/#\/overview$/);
    await page.context().close();
  });
});
