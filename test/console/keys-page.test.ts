/**
 * Serial Key Management in a real browser (SPEC H5, S1–S5, H2): a real `licensegate serve` on
 * the test Redis (VENDOR_PUBLIC_KEYS = this file's vendor key, test/helpers/ledger.ts), Debian's
 * chromium through playwright-core. Harness: test/console/harness.ts.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { OS, newAgent } from '../helpers/agents.ts';
import { mintKey } from '../helpers/ledger.ts';
import { TABLET, screenshot, signIn, startConsoleStack, type ConsoleStack } from './harness.ts';

const DAY = 86_400_000;

/** The key with one character of its signed payload changed: the signature no longer matches. */
function tamper(key: string): string {
  const [head, payload, sig] = key.split('.') as [string, string, string];
  const i = Math.floor(payload.length / 2);
  const c = payload[i] === 'A' ? 'B' : 'A';
  return `${head}.${payload.slice(0, i)}${c}${payload.slice(i + 1)}.${sig}`;
}

function cell(page: Page, type: string, col: string) {
  return page.locator(`#availability-table tr[data-type="${type}"] td[data-col="${col}"]`);
}

let stack: ConsoleStack;
let tech: Page;
const pageErrors: string[] = [];
const agents: Agent[] = [];

beforeAll(async () => {
  // No serial key at first: the page starts with nothing available.
  stack = await startConsoleStack({ label: 'ckeys', serialKeys: [], accounts: [{ name: 'tech' }, { name: 'reader', permissions: [] }] });
  tech = await stack.newPage();
  // Script errors and CSP violations of the pages (an API's refusal logs "Failed to load resource": expected here).
  tech.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  tech.on('pageerror', (e) => pageErrors.push(e.message));
  await signIn(tech, 'tech');
});

afterAll(async () => {
  for (const a of agents) await a.close().catch(() => {});
  await stack?.stop();
});

describe('Serial Key Management', () => {
  it('H5 T1 T5: with no key allowing multi-tenant mode, Licenses Granted says why it is off, and creating a tenant explains MULTI_TENANT_NOT_ALLOWED', async () => {
    await tech.goto('/#/granted');
    expect(await tech.locator('#multi-tenant-off').textContent()).toMatch(/Multi-tenant mode is off: no active serial key allows it/);
    expect(await tech.getByRole('button', { name: /Grant|Take back/ }).count()).toBe(0);
    await tech.goto('/#/tenants');
    await tech.getByLabel('Name', { exact: true }).fill('Too early');
    await tech.getByRole('button', { name: 'Create tenant' }).click();
    const problem = tech.locator('.lg-problem[data-code="MULTI_TENANT_NOT_ALLOWED"]');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('Activate a key that allows it');
  });

  it('H5 S2 S3: pasting a key activates it and availability changes without a reload', async () => {
    await tech.goto('/#/keys');
    await tech.getByRole('heading', { level: 1, name: 'Serial Key Management' }).waitFor();
    await expect.poll(() => cell(tech, 'workstation', 'total').textContent()).toBe('0');
    await tech.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42)); // gone if the page reloads
    // Pasted as a mail client would wrap it: line breaks inside the key are ignored.
    const key = mintKey({ workstation: 10, linux: 4, 'pam-seat': 2 }, { keyId: 'K-main', multiTenant: true });
    await tech.getByRole('textbox', { name: /^Serial key/ }).fill(`${key.slice(0, 60)}\n${key.slice(60)}\n`);
    await tech.getByRole('button', { name: 'Activate' }).click();
    await expect.poll(() => cell(tech, 'workstation', 'total').textContent()).toBe('10');
    expect(await cell(tech, 'workstation', 'available').textContent()).toBe('10');
    expect(await cell(tech, 'linux', 'total').textContent()).toBe('4');
    expect(await tech.getByRole('status').filter({ hasText: 'K-main activated' }).count()).toBe(1);
    expect(await tech.locator('#keys-table tr[data-key="K-main"]').textContent()).toContain('subscription');
    expect(await tech.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    expect(await tech.getByRole('textbox', { name: /^Serial key/ }).inputValue()).toBe('');
  });

  it('H5 S1: a tampered key shows SERIAL_KEY_INVALID and changes nothing', async () => {
    await tech.goto('/#/keys');
    await tech.getByRole('textbox', { name: /^Serial key/ }).fill(tamper(mintKey({ workstation: 500 }, { keyId: 'K-forged' })));
    await tech.getByRole('button', { name: 'Activate' }).click();
    const alert = tech.locator('.lg-problem[data-code="SERIAL_KEY_INVALID"]');
    await alert.waitFor();
    expect(await alert.getAttribute('role')).toBe('alert');
    expect(await alert.textContent()).toMatch(/not valid: it was altered/);
    expect(await cell(tech, 'workstation', 'total').textContent()).toBe('10');
    expect(await tech.locator('#keys-table tr[data-key="K-forged"]').count()).toBe(0);
  });

  it('H5 S5 S3: keys show kind and expiry countdown with the 15-day and 1-day warnings; usage bars mark 85/90/99 %', async () => {
    for (const key of [
      mintKey({ workstation: 10 }, { keyId: 'K-fortnight', expiresAt: Date.now() + 10 * DAY }),
      mintKey({ linux: 2 }, { keyId: 'K-tomorrow', expiresAt: Date.now() + DAY / 2 }),
      mintKey({ 'cloud-server': 3 }, { keyId: 'K-perpetual', kind: 'perpetual' }),
    ]) {
      expect((await stack.call('POST', '/serial-keys', { key })).status).toBe(200);
    }
    // Grants count in the default tenant's usage: 18 of 20 workstation = 90 %.
    expect((await stack.call('POST', '/tenants', { name: 'Acme', tenantId: 'acme' })).status).toBe(201);
    expect((await stack.call('POST', '/tenants/acme/grants', { type: 'workstation', count: 18 })).status).toBe(200);
    await tech.reload();
    await tech.locator('#keys-table tr[data-key="K-fortnight"]').waitFor();
    const fortnight = tech.locator('#keys-table tr[data-key="K-fortnight"]');
    expect(await fortnight.locator('[data-warning="15-day"]').textContent()).toMatch(/^Expires within 15 days: in (9 days 23 h|10 days 0 h)/);
    const tomorrow = tech.locator('#keys-table tr[data-key="K-tomorrow"]');
    expect(await tomorrow.locator('[data-warning="1-day"]').textContent()).toMatch(/^Expires within 1 day: in 1[12] h/);
    expect(await tech.locator('#keys-table tr[data-key="K-perpetual"]').textContent()).toMatch(/perpetual.*never \(perpetual\)/);
    expect(await tech.locator('#keys-table tr[data-key="K-main"] [data-warning]').count()).toBe(0);
    expect(await cell(tech, 'workstation', 'total').textContent()).toBe('20');
    expect(await cell(tech, 'workstation', 'granted').textContent()).toBe('18');
    const bar = tech.locator('#availability-table tr[data-type="workstation"] [role="meter"]');
    expect(await bar.getAttribute('aria-valuetext')).toBe('18 of 20 (90 %)');
    expect(await tech.locator('#availability-table tr[data-type="workstation"]').textContent()).toContain('over 90 %');
    expect(await tech.locator('#availability-table tr[data-type="workstation"] .usage-mark').count()).toBe(3);
    await screenshot(tech, 'keys');
    // Readable on a tablet: nothing wider than the screen.
    const tablet = await stack.newPage({ viewport: TABLET });
    await signIn(tablet, 'tech');
    await tablet.goto('/#/keys');
    await tablet.locator('#keys-table tr[data-key="K-fortnight"]').waitFor();
    expect(await tablet.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(TABLET.width);
    await screenshot(tablet, 'keys-tablet');
    await tablet.context().close();
  });

  it('H5 S4: removing a key asks first, naming the licenses it takes away; availability follows', async () => {
    await tech.goto('/#/keys');
    const row = tech.locator('#keys-table tr[data-key="K-tomorrow"]');
    await row.getByRole('button', { name: 'Remove key K-tomorrow' }).click();
    const dialog = tech.getByRole('dialog', { name: 'Remove serial key K-tomorrow?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/provides 2 licenses \(Linux 2\).*StopMonitoring/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await row.locator('td').nth(1).textContent()).toBe('active');
    await row.getByRole('button', { name: 'Remove key K-tomorrow' }).click();
    await dialog.getByRole('button', { name: 'Remove key and its 2 licenses' }).click();
    await tech.getByRole('status').filter({ hasText: 'Key K-tomorrow removed' }).waitFor();
    await expect.poll(() => row.locator('td').nth(1).textContent()).toBe('removed');
    expect(await cell(tech, 'linux', 'total').textContent()).toBe('4');
  });

  it('H5 H3 S3: an agent of the default tenant taking a license shows in "assigned" live (SSE), without a reload', async () => {
    await tech.goto('/#/keys');
    await expect.poll(() => cell(tech, 'linux', 'assigned').textContent()).toBe('0');
    await tech.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 7));
    const agent = newAgent(stack.api.gw.url, { os: OS.linux });
    agents.push(agent);
    const started = Date.now();
    await agent.connect();
    await expect.poll(() => cell(tech, 'linux', 'assigned').textContent(), { timeout: 5000 }).toBe('1');
    console.log(`keys page: agent connect -> "assigned" updated in the browser in ${Date.now() - started} ms`);
    expect(await cell(tech, 'linux', 'available').textContent()).toBe('3');
    expect(await tech.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(7);
  });

  it('H5 H2: a read-only account sees availability and keys but no activate or remove controls', async () => {
    const page = await stack.newPage();
    await signIn(page, 'reader');
    await page.goto('/#/keys');
    await page.locator('#keys-table tr[data-key="K-main"]').waitFor();
    expect(await cell(page, 'workstation', 'total').textContent()).toBe('20');
    expect(await page.getByRole('button').filter({ hasText: /Remove|Activate/ }).count()).toBe(0);
    expect(await page.locator('textarea').count()).toBe(0);
    await page.context().close();
  });

  it('H5: no script error or CSP violation on these pages, and nothing asked beyond loopback (offline)', () => {
    expect(pageErrors).toEqual([]);
    expect(stack.external).toEqual([]);
  });
});
