/**
 * The console's shared components in a real browser (SPEC H5: accessible, keyboard reachable),
 * on a fixture page (test/console/fixtures/components/main.tsx) built by the console's own
 * bundler and served by its handler under the same CSP: the Confirm dialog (modal, focus kept
 * inside, Esc, focus returned), the cursor Pager, Table sorting, the UsageBar's 85/90/99 % levels,
 * ErrorBanner's `CODE: detail`, Toast.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../src/console/console-bundle.ts';
import { consoleHandler } from '../../src/console/console-handler.ts';
import { browser, LAPTOP } from './harness.ts';

let server: Server;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  const handler = consoleHandler(await buildConsole(join(import.meta.dirname, 'fixtures/components')));
  server = createServer((req, res) => void handler(req, res).then((done) => done || res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const context = await (await browser()).newContext({ viewport: LAPTOP, baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await page.getByRole('heading', { name: 'Components' }).waitFor();
});

afterAll(async () => {
  await page?.context().close();
  await new Promise((r) => server?.close(r));
});

const focusedText = () => page.evaluate<string>("(e => e ? (e.textContent || '').trim() || e.tagName : '')(document.activeElement)");

describe('console components (H5)', () => {
  it('H5: Confirm is modal, starts on Cancel, keeps Tab inside, closes with Esc and gives focus back', async () => {
    const opener = page.getByRole('button', { name: 'Unassign pc-1' });
    await opener.click();
    const dialog = page.getByRole('dialog', { name: 'Unassign pc-1?' });
    await dialog.waitFor();
    expect(await focusedText()).toBe('Cancel');
    // In document order: the force checkbox, Cancel, Unassign; Tab wraps around inside the dialog.
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      seen.push(await focusedText());
    }
    expect(seen).toEqual(['Unassign', 'INPUT', 'Cancel', 'Unassign']); // never leaves the dialog
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.getByTestId('result').textContent()).toBe('cancelled');
    expect(await focusedText()).toBe('Unassign pc-1');
    await opener.click();
    await dialog.getByRole('button', { name: 'Unassign' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.getByTestId('result').textContent()).toBe('confirmed');
  });

  it('H5: Pager walks cursors forward and back (a stack of cursors)', async () => {
    const rows = page.getByTestId('page-rows');
    const pager = page.getByRole('navigation', { name: 'Pages' });
    expect(await rows.textContent()).toBe('a,b');
    expect(await pager.getByRole('button', { name: '← Previous' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Next →' }).click();
    await pager.getByRole('button', { name: 'Next →' }).click();
    expect(await rows.textContent()).toBe('e');
    expect(await pager.textContent()).toContain('Page 3 of 3');
    expect(await pager.getByRole('button', { name: 'Next →' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: '← Previous' }).click();
    expect(await rows.textContent()).toBe('c,d');
  });

  it('H5: Table headers sort (aria-sort), numbers numerically', async () => {
    const table = page.getByRole('table', { name: 'Hosts' });
    const names = () => table.locator('tbody tr td:first-child').allTextContents();
    await table.getByRole('button', { name: /Name/ }).click();
    expect(await names()).toEqual(['alpha', 'beta', 'gamma']);
    expect(await table.locator('th').first().getAttribute('aria-sort')).toBe('ascending');
    await table.getByRole('button', { name: /Name/ }).click();
    expect(await names()).toEqual(['gamma', 'beta', 'alpha']);
    await table.getByRole('button', { name: /Count/ }).click();
    expect(await names()).toEqual(['gamma', 'beta', 'alpha']); // 1, 2, 10
  });

  it('H5 S3 A6: UsageBar marks 85/90/99 % and writes the numbers out', async () => {
    const levels: Record<number, string> = { 84: 'usage-ok', 85: 'usage-warn85', 90: 'usage-warn90', 99: 'usage-warn99', 100: 'usage-full' };
    for (const [u, cls] of Object.entries(levels)) {
      const bar = page.getByTestId(`usage-${u}`).locator('.usage');
      expect(await bar.getAttribute('class')).toContain(cls);
      expect(await page.getByTestId(`usage-${u}`).getByRole('meter').getAttribute('aria-valuetext')).toBe(`${u} of 100 (${u} %)`);
      expect(await page.getByTestId(`usage-${u}`).locator('.usage-mark').count()).toBe(3);
    }
  });

  it('H5: ErrorBanner shows CODE: detail as an alert; Toast announces and closes; no CSP error', async () => {
    expect(await page.getByRole('alert').textContent()).toContain('NO_LICENSE_AVAILABLE: no workstation license is free');
    await page.getByRole('button', { name: 'Toast' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Assigned pc-1' });
    await notice.waitFor();
    await notice.getByRole('button', { name: 'Close notice' }).click();
    await notice.waitFor({ state: 'detached' });
    expect(errors).toEqual([]);
  });
});
