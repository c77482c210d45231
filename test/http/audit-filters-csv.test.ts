/**
 * SPEC A5, Z5 for the admin API's audit reads: the filters `until`, `action` and `actor` (with
 * `since`, `before`, `clientId`) on a real Redis stream, bounded per page; and the CSV cells of
 * the export — RFC 4180 quoting, and formula-like text (= + - @) made inert for spreadsheets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, csvRow } from '../../src/http/routes/csv.ts';
import { readAuditPage } from '../../src/licensing/audit.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';

let redis: RedisClient;
let keys: Keys;
const t0 = Date.now() - 60_000;

beforeAll(async () => {
  redis = await connectRedis();
  keys = newKeys('audf');
  const p = redis.pipeline();
  // 300 entries 1 ms apart: actions alternate assigned/unassigned, every third by `ada`.
  for (let i = 1; i <= 300; i++) {
    p.xadd(keys.audit(DEFAULT_TENANT), `${t0 + i}-0`, 'ts', String(t0 + i), 'holder', `c-${i % 5}`, 'holderKind', 'client', 'type', 'linux',
      'action', i % 2 ? 'assigned' : 'unassigned', 'before', '', 'after', 'linux', 'reason', '', 'actor', i % 3 ? 'system' : 'ada', 'cause', 'hello');
  }
  await p.exec();
});

afterAll(() => redis?.disconnect());

describe('audit filters', () => {
  it('A5: until bounds the newest entry; with before, the lower bound wins', async () => {
    const ctx = ledgerContext(redis, keys);
    const page = await readAuditPage(ctx, DEFAULT_TENANT, { until: t0 + 100, limit: 3 });
    expect(page.entries.map((e) => e.ts)).toEqual([t0 + 100, t0 + 99, t0 + 98]);
    const both = await readAuditPage(ctx, DEFAULT_TENANT, { until: t0 + 100, before: `${t0 + 50}-0`, limit: 1 });
    expect(both.entries[0]!.ts).toBe(t0 + 49);
    const window = await readAuditPage(ctx, DEFAULT_TENANT, { since: t0 + 10, until: t0 + 19, limit: 100 });
    expect(window.entries).toHaveLength(10);
    expect(window.next).toBeNull();
  });

  it('A5: action and actor filter on the server, combined with clientId, and pages continue', async () => {
    const ctx = ledgerContext(redis, keys);
    const q = { action: 'unassigned', actor: 'ada', clientId: 'c-0', limit: 4 };
    const first = await readAuditPage(ctx, DEFAULT_TENANT, q);
    // i even, i % 3 == 0, i % 5 == 0: i = 300, 270, 240, 210, …
    expect(first.entries.map((e) => e.ts - t0)).toEqual([300, 270, 240, 210]);
    const second = await readAuditPage(ctx, DEFAULT_TENANT, { ...q, before: first.next! });
    expect(second.entries.map((e) => e.ts - t0)).toEqual([180, 150, 120, 90]);
    const all = await readAuditPage(ctx, DEFAULT_TENANT, { ...q, limit: 100 });
    expect(all.entries).toHaveLength(10);
    expect(all.next).toBeNull();
  });
});

describe('CSV export cells', () => {
  it('A5: RFC 4180 quoting keeps commas, quotes and line breaks inside a cell', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(42)).toBe('"42"');
    expect(csvRow(['x', 'y'])).toBe('"x","y"\r\n');
  });

  it('A5: cells a spreadsheet would run as a formula (= + - @, tab, CR) start with an apostrophe', () => {
    for (const evil of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) expect(csvCell(evil)).toBe(`"'${evil.replace(/"/g, '""')}"`);
    expect(csvCell('plain-host')).toBe('"plain-host"');
    expect(csvCell(-5)).toBe('"-5"'); // numbers are data (ts columns), not formulas
  });
});
