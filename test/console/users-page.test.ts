/**
 * User Management in a real browser (SPEC P1, H5, T6, H2; console/src/pages/users-page.tsx): PAM
 * users and their seats, the seat pool's numbers, create (409 USER_EXISTS shown), give and take a
 * seat with a confirmation — all through the admin API of a real `licensegate serve`.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, mintKey, screenshot, signIn, startConsoleStack, type ConsoleStack } from './harness.ts';

let stack: ConsoleStack;

beforeAll(async () => {
  stack = await startConsoleStack({
    label: 'cusers',
    serialKeys: [mintKey({ workstation: 10, 'pam-seat': 5 }, { multiTenant: true })],
    accounts: [{ name: 'tech' }, { name: 'viewer', permissions: [] }, { name: 'acme-admin', tenantId: 'acme', permissions: [PERMISSIONS.clients, PERMISSIONS.licenses] }],
  });
  for (const [path, body] of [
    ['/tenants/acme/grants', { type: 'pam-seat', count: 2 }],
    ['/tenants/acme/users', { name: 'Acme Operator', userId: 'acme-op' }],
    ['/tenants/default/users', { name: 'Grace Hopper', userId: 'grace' }],
    ['/tenants/default/users/grace/pam-seat', undefined],
  ] as const) {
    const r = await stack.call(path.endsWith('pam-seat') ? 'PUT' : 'POST', path, body);
    expect(r.status, `${path}: ${r.text}`).toBeLessThan(300);
  }
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

async function openUsers(page: Page, name: string): Promise<void> {
  await signIn(page, name);
  await page.goto('/#/users');
  await page.getByRole('heading', { level: 1, name: 'User Management' }).waitFor();
}

const user = (page: Page, id: string) => page.locator(`tr[data-user-id="${id}"]`);
const pool = (page: Page, field: string) => page.locator(`[data-pool="${field}"]`).textContent();

describe('User Management (users page)', () => {
  it('P1 H5: create a PAM user (a taken name shows USER_EXISTS), give a seat and take it back with confirmation; the pool numbers follow', async () => {
    const page = await stack.newPage();
    await openUsers(page, 'tech');
    await expect.poll(() => user(page, 'grace').textContent()).toContain('seat');
    await expect.poll(() => pool(page, 'assigned')).toBe('1');
    const available = Number(await pool(page, 'available'));

    await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace');
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect.poll(() => page.locator('tr[data-user-id]').filter({ hasText: 'Ada Lovelace' }).count()).toBe(1);
    const ada = page.locator('tr[data-user-id]').filter({ hasText: 'Ada Lovelace' });
    expect(await ada.textContent()).toContain('no seat'); // P1: nothing gives a seat by itself

    await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace');
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect.poll(() => page.locator('form.create-user [role=alert]').textContent()).toContain('USER_EXISTS');
    expect(await page.locator('form.create-user [role=alert]').textContent()).toContain('already exists');

    await ada.getByRole('button', { name: /^Give a seat/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Give seat' }).click();
    await expect.poll(() => ada.locator('td').nth(2).textContent()).toBe('seat');
    await expect.poll(() => pool(page, 'assigned')).toBe('2');
    expect(Number(await pool(page, 'available'))).toBe(available - 1);
    for (const close of await page.getByRole('button', { name: 'Close notice' }).all()) await close.click({ timeout: 1_000 }).catch(() => {}); // toasts also go by themselves
    await screenshot(page, 'users');

    await ada.getByRole('button', { name: /^Take the seat/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Take seat' }).click();
    await expect.poll(() => ada.locator('td').nth(2).textContent()).toBe('no seat');
    await expect.poll(() => pool(page, 'assigned')).toBe('1');
    expect(stack.external).toEqual([]);
    await page.context().close();
  });

  it('H5 T6: a tenant admin sees its own PAM users and seat pool only, without a tenant picker', async () => {
    const page = await stack.newPage();
    await openUsers(page, 'acme-admin');
    await expect.poll(() => user(page, 'acme-op').count()).toBe(1);
    expect(await user(page, 'grace').count()).toBe(0);
    expect(await pool(page, 'granted')).toBe('2');
    expect(await page.getByLabel('Tenant', { exact: true }).count()).toBe(0);
    expect(await page.evaluate(async () => (await fetch('/api/v1/tenants/default/users')).status)).toBe(403);
    await page.context().close();
  });

  it('H5 H2: a read-only account sees users and seats but no create form and no seat buttons', async () => {
    const page = await stack.newPage();
    await openUsers(page, 'viewer');
    await expect.poll(() => user(page, 'grace').count()).toBe(1);
    expect(await page.getByRole('button', { name: /seat|Create user/ }).count()).toBe(0);
    expect(await page.locator('form.create-user').count()).toBe(0);
    await page.context().close();
  });
});
