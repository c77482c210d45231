/**
 * Tenants, Licenses Granted and Audit in a real browser (SPEC H5, T1–T6, C7, C11, C12, Z2, A5,
 * H2): a real `licensegate serve` on the test Redis, a real agent (agent-sim) in a tenant,
 * Debian's chromium through playwright-core. Harness: test/console/harness.ts.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { OS, newAgent } from '../helpers/agents.ts';
import { mintKey } from '../helpers/ledger.ts';
import { screenshot, signIn, startConsoleStack, type ConsoleStack } from './harness.ts';

let stack: ConsoleStack;
let tech: Page;
const pageErrors: string[] = [];
const agents: Agent[] = [];

function grantedCell(page: Page, tenant: string, type: string, col: string) {
  return page.locator(`#granted-table tr[data-tenant="${tenant}"][data-type="${type}"] td[data-col="${col}"]`);
}

beforeAll(async () => {
  stack = await startConsoleStack({
    label: 'ctenants',
    serialKeys: [mintKey({ workstation: 20, linux: 5, 'pam-seat': 5 }, { keyId: 'K-multi', multiTenant: true })],
    accounts: [{ name: 'tech' }, { name: 'reader', permissions: [] }, { name: 'acme-admin', tenantId: 'acme' }],
  });
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

describe('Tenants', () => {
  it('H5 T1 Z2: a new tenant\u2019s enrollment token is shown once, with a copy button; a reload does not show it again; TENANT_EXISTS is explained', async () => {
    await tech.goto('/#/tenants');
    await tech.getByLabel('Name', { exact: true }).fill('Globex');
    await tech.getByRole('button', { name: 'Create tenant' }).click();
    const once = tech.getByRole('region', { name: /enrollment token for globex/ });
    await once.waitFor();
    expect(await once.textContent()).toContain('Store it now: it is shown only this once.');
    const token = await once.getByLabel('Enrollment token').inputValue();
    expect(token).toMatch(/^lgt_/);
    expect(await once.getByRole('button', { name: 'Copy' }).isVisible()).toBe(true);
    await tech.locator('#tenants-table tr[data-tenant="globex"]').waitFor();
    await screenshot(tech, 'tenants');
    await tech.reload();
    await tech.locator('#tenants-table tr[data-tenant="globex"]').waitFor();
    expect(await tech.locator('#enrollment-token').count()).toBe(0);
    expect(await tech.content()).not.toContain(token);
    // The same name again: refused, and the page says what it means.
    await tech.getByLabel('Name', { exact: true }).fill('globex');
    await tech.getByRole('button', { name: 'Create tenant' }).click();
    const problem = tech.locator('.lg-problem[data-code="TENANT_EXISTS"]');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('already exists');
  });

  it('H5 C11 C12 Z2: the policy is saved through the API; a rotation shows the new token once with the grace of the old one', async () => {
    await tech.goto('/#/tenants');
    await tech.locator('#tenants-table tr[data-tenant="globex"]').getByRole('button').click();
    await tech.getByRole('heading', { level: 2, name: /Globex/ }).waitFor();
    const days = tech.getByLabel(/Reclaim after N days/);
    await expect.poll(() => days.inputValue()).toBe('0');
    await days.fill('30');
    await tech.getByLabel(/non-persistent Client/).check();
    await tech.getByRole('button', { name: 'Save policy' }).click();
    await tech.getByRole('status').filter({ hasText: 'Policy of globex saved.' }).waitFor();
    expect((await stack.call('GET', '/tenants/globex/policy')).json).toEqual({ tenantId: 'globex', reclaimAfterDays: 30, freeNonPersistentOnDisconnect: true });
    await tech.getByLabel(/previous token keeps enrolling/).selectOption({ label: '1 hour' });
    await tech.getByRole('button', { name: 'Rotate token' }).click();
    const once = tech.getByRole('region', { name: /Token rotated: enrollment token for globex/ });
    await once.waitFor();
    expect(await once.getByLabel('Enrollment token').inputValue()).toMatch(/^lgt_/);
    expect(await once.textContent()).toMatch(/previous token keeps enrolling until \d{4}-/);
    await once.getByRole('button', { name: 'I have stored it' }).click();
    expect(await tech.locator('#enrollment-token').count()).toBe(0);
  });
});

describe('Licenses Granted', () => {
  it('H5 T5 T3: granting to a tenant changes Licenses Granted without a reload', async () => {
    await tech.goto('/#/granted');
    await tech.getByRole('heading', { level: 1, name: 'Licenses Granted' }).waitFor();
    await tech.locator('#grant-tenant').selectOption('acme');
    await tech.locator('#grant-type').selectOption('workstation');
    await tech.locator('#grant-count').fill('4');
    await tech.getByRole('button', { name: 'Grant', exact: true }).click();
    await expect.poll(() => grantedCell(tech, 'acme', 'workstation', 'granted').textContent()).toBe('4');
    expect(await grantedCell(tech, 'acme', 'workstation', 'available').textContent()).toBe('4');
    expect(await tech.locator('#granted-notice').textContent()).toContain('Granted 4 Workstation to acme');
  });

  it('H5 T4 C7: a take-back below what is assigned shows LICENSES_IN_USE; with force (explained, confirmed) the Client receives StopMonitoring', async () => {
    // A real agent in acme takes one of its 4 workstation licenses.
    const rotated = await stack.call('POST', '/tenants/acme/rotate-token', {});
    const agent = newAgent(stack.api.gw.url, { tenantId: 'acme', enrollmentToken: (rotated.json as { enrollmentToken: string }).enrollmentToken, os: OS.windows });
    agents.push(agent);
    await agent.connect();
    await agent.waitFor(() => agent.monitoring);
    await tech.goto('/#/granted');
    await tech.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => grantedCell(tech, 'acme', 'workstation', 'assigned').textContent()).toBe('1');
    await tech.locator('#back-tenant').selectOption('acme');
    await tech.locator('#back-type').selectOption('workstation');
    await tech.locator('#back-count').fill('4');
    await tech.getByRole('button', { name: 'Take back', exact: true }).click();
    const inUse = tech.locator('.lg-problem[data-code="LICENSES_IN_USE"]');
    await inUse.waitFor();
    expect(await inUse.textContent()).toMatch(/choose "force" to unassign that many Clients \(each receives StopMonitoring\)/);
    expect(agent.monitoring).toBe(true);
    await tech.getByLabel(/Force: unassign licenses in use/).check();
    expect(await tech.locator('#force-help').textContent()).toMatch(/longest offline first.*StopMonitoring.*this take-back would unassign 1 Client/);
    await tech.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await screenshot(tech, 'granted');
    await tech.getByRole('button', { name: 'Take back (force)…' }).click();
    const dialog = tech.getByRole('dialog', { name: 'Take back with force?' });
    expect(await dialog.textContent()).toMatch(/unassigns 1 of its Clients.*StopMonitoring/);
    await dialog.getByRole('button', { name: 'Take back and unassign' }).click();
    await expect.poll(() => tech.locator('#granted-notice').textContent()).toContain(`1 Client(s) lost their license and were sent StopMonitoring: ${agent.clientId}`);
    await agent.waitFor(() => !agent.monitoring && agent.commands.some((c) => c.kind === 'stop'));
    // Nothing granted or assigned any more: the row is hidden (shown again with "Show types with nothing granted").
    await expect.poll(() => grantedCell(tech, 'acme', 'workstation', 'granted').count()).toBe(0);
    await tech.getByLabel('Show types with nothing granted').check();
    expect(await grantedCell(tech, 'acme', 'workstation', 'granted').textContent()).toBe('0');
  });
});

describe('who sees what', () => {
  it('H2 T6: a tenant admin sees only its tenant: no Serial Key Management, no other tenants, no create', async () => {
    const page = await stack.newPage();
    await signIn(page, 'acme-admin');
    const nav = page.getByRole('navigation', { name: 'Pages' });
    expect(await nav.getByRole('link', { name: 'Serial Keys' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Licenses Granted' }).count()).toBe(0);
    await page.goto('/#/tenants');
    await page.locator('#tenants-table tr[data-tenant="acme"]').waitFor();
    expect(await page.locator('#tenants-table tbody tr').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Create tenant' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Delete tenant|Rename/ }).count()).toBe(0);
    await page.goto('/#/keys');
    expect(await page.locator('#availability-table').count()).toBe(0);
    await page.context().close();
  });

  it('H2: a read-only account sees no buttons that would fail', async () => {
    const page = await stack.newPage();
    await signIn(page, 'reader');
    await page.goto('/#/tenants');
    await page.locator('#tenants-table tr[data-tenant="globex"]').waitFor();
    await page.locator('#tenants-table tr[data-tenant="globex"]').getByRole('button').click();
    await expect.poll(() => page.getByLabel(/Reclaim after N days/).inputValue()).toBe('30');
    expect(await page.getByLabel(/Reclaim after N days/).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: /Create tenant|Save policy|Rotate token|Rename|Delete tenant/ }).count()).toBe(0);
    await page.goto('/#/granted');
    await page.locator('#granted-table[data-loaded="true"]').waitFor();
    expect(await page.getByRole('button', { name: /Grant|Take back/ }).count()).toBe(0);
    await page.context().close();
  });

  it('H5 T1: deleting a tenant that still holds something explains TENANT_NOT_EMPTY; an empty one is deleted', async () => {
    await tech.goto('/#/tenants');
    await tech.locator('#tenants-table tr[data-tenant="acme"]').getByRole('button').click();
    await tech.getByRole('button', { name: 'Delete tenant…' }).click();
    await tech.getByRole('dialog', { name: 'Delete tenant acme?' }).getByRole('button', { name: 'Delete' }).click();
    const problem = tech.locator('.lg-problem[data-code="TENANT_NOT_EMPTY"]');
    await problem.waitFor();
    expect(await tech.locator('#tenant-holds').textContent()).toMatch(/^Holds 1 Client, 0 PAM users; /);
    expect(await problem.textContent()).toMatch(/still holds licenses, Clients or PAM users/);
    await tech.locator('#tenants-table tr[data-tenant="globex"]').getByRole('button').click();
    await tech.getByRole('button', { name: 'Delete tenant…' }).click();
    await tech.getByRole('dialog', { name: 'Delete tenant globex?' }).getByRole('button', { name: 'Delete' }).click();
    await tech.locator('#tenants-table tr[data-tenant="globex"]').waitFor({ state: 'detached' });
  });
});

describe('Audit', () => {
  it('H5 A5: filters narrow the trail; the CSV link downloads the same filtered trail', async () => {
    await tech.goto('/#/audit');
    await tech.locator('#audit-table tbody tr[data-id]').first().waitFor();
    await tech.getByLabel('Action', { exact: true }).fill('key-activated');
    await tech.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(async () => new Set(await tech.locator('#audit-table tbody tr[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action'))))).toEqual(new Set(['key-activated']));
    const href = await tech.locator('#audit-csv').getAttribute('href');
    expect(href).toBe('/api/v1/tenants/default/audit.csv?action=key-activated');
    const [download] = await Promise.all([tech.waitForEvent('download'), tech.locator('#audit-csv').click()]);
    expect(download.suggestedFilename()).toBe('audit-default.csv');
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toBe('"id","ts","tenant","holder","holderKind","type","action","before","after","reason","actor","cause"');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines.slice(1)) expect(l).toContain('"key-activated"');
    // A time window with nothing in it: no rows, and the CSV link carries it too.
    await tech.getByLabel('Since').fill('2099-01-01T00:00');
    await tech.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => tech.locator('#audit-table tbody tr[data-id]').count()).toBe(0);
    expect(await tech.locator('#audit-csv').getAttribute('href')).toMatch(/^\/api\/v1\/tenants\/default\/audit\.csv\?action=key-activated&since=\d{13}$/);
    await tech.getByRole('button', { name: 'Clear' }).click();
    await tech.locator('#audit-table tbody tr[data-id]').first().waitFor();
    await screenshot(tech, 'audit');
  });

  it('H5 A5 T6: a tenant admin reads its own tenant\u2019s trail, filtered by Client id', async () => {
    const page = await stack.newPage();
    await signIn(page, 'acme-admin');
    await page.goto('/#/audit');
    await page.getByLabel('Client id').fill(agents[0]!.clientId);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.locator('#audit-table tbody tr[data-action="unassigned"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#audit-csv').getAttribute('href')).toBe(`/api/v1/tenants/acme/audit.csv?clientId=${agents[0]!.clientId}`);
    await page.context().close();
  });

  it('H5: no script error or CSP violation on these pages, and nothing asked beyond loopback (offline)', () => {
    expect(pageErrors).toEqual([]);
    expect(stack.external).toEqual([]);
  });
});
