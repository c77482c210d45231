/**
 * The Overview page in a real browser (SPEC H5, S5, A6, T6): online now, licensed vs waiting,
 * enrollments, the 15-day key warning, overload; the tenant scope on the server; offline (no
 * request leaves loopback, no external URL in the assets); screenshots `overview` (1366×768) and
 * `overview-tablet` (768×1024). Harness: test/console/harness.ts.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { enrolledAgent, OS } from '../helpers/agents.ts';
import { mintKey, screenshot, signIn, startConsoleStack, TABLET, type ConsoleStack } from './harness.ts';

let stack: ConsoleStack;
const agents: Agent[] = [];
const DAY = 86_400_000;

beforeAll(async () => {
  stack = await startConsoleStack({
    label: 'cover',
    // One multi-tenant key expiring in 12 days (the 15-day warning), 4 linux licenses for 5 linux agents (an exhausted pool).
    serialKeys: [mintKey({ workstation: 10, linux: 4, 'pam-seat': 5 }, { multiTenant: true, expiresAt: Date.now() + 12 * DAY })],
    accounts: [{ name: 'tech' }, { name: 'viewer', tenantId: 'acme', permissions: [] }],
  });
  for (let i = 0; i < 6; i++) agents.push(await enrolledAgent(stack.api.gw.url, { os: OS.windows }));
  for (let i = 0; i < 5; i++) agents.push(await enrolledAgent(stack.api.gw.url, { os: OS.linux }));
});

afterAll(async () => {
  for (const a of agents) a.terminate();
  await stack?.stop();
});

const navLinks = (page: Page) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();

describe('console overview (H5)', () => {
  it('H5 H3: the overview shows online now, licensed vs waiting, enrollments, key expiry (15-day warning) and overload; a new agent appears live', async () => {
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
    // A fresh load of the console, signed in: the shell, the bundle, the session and the overview's data.
    const t0 = performance.now();
    await page.reload();
    await page.getByTestId('online-now').waitFor();
    const loadMs = Math.round(performance.now() - t0);
    console.info(`console: signed-in load of the overview ${loadMs} ms (JS ${(await (await fetch(`${stack.base}/console/app.js`)).arrayBuffer()).byteLength} bytes)`);
    expect(loadMs).toBeLessThan(5_000);
    // Live (H3): a new agent's license.assigned event refreshes the page without a reload (the poll is every 15 s).
    await page.getByText('live', { exact: true }).waitFor();
    agents.push(await enrolledAgent(stack.api.gw.url, { os: OS.windows }));
    await expect.poll(() => page.getByTestId('online-now').textContent(), { timeout: 8_000 }).toBe('12');
    // Online now follows the presence notice at once; the license count comes with the license event's reload.
    await expect.poll(() => page.getByTestId('licensed').textContent(), { timeout: 8_000 }).toBe('11');
    // Presence (H3): the waiting linux agent leaves — no license event — and "Online now" follows the
    // stream's presence notice, well before the 15 s poll.
    agents[10]!.terminate();
    await expect.poll(() => page.getByTestId('online-now').textContent(), { timeout: 5_000, interval: 20 }).toBe('11');
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
