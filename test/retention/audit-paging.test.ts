/**
 * `licensegate admin audit` reads one page from the end of the trail (SPEC Z5, A5): newest
 * first, `--limit` entries, a `--before` cursor that continues with no entry twice and none
 * missed, whatever the trail's length — never the whole stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditPage } from '../../src/licensing/audit.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { CliDeployments, runAdminCli } from '../helpers/admin-cli.ts';
import { ledgerContext } from '../helpers/ledger.ts';
import { connectRedis } from '../helpers/redis.ts';

const deployments = new CliDeployments();
const dataDir = mkdtempSync(join(tmpdir(), 'lg-audit-page-'));
let redis: RedisClient;
let keys: Keys;
/** Every entry id, oldest first, as written. */
let written: string[] = [];

beforeAll(async () => {
  redis = await connectRedis();
  keys = await deployments.fresh(redis, 'aud');
  const p = redis.pipeline();
  // 1,234 entries over 1,234 ms; every seventh about client `c-7`.
  const t0 = Date.now() - 60_000;
  for (let i = 1; i <= 1234; i++) {
    const id = `${t0 + i}-0`;
    written.push(id);
    p.xadd(keys.audit(DEFAULT_TENANT), id, 'ts', String(t0 + i), 'holder', i % 7 === 0 ? 'c-7' : `c-${i}`, 'holderKind', 'client', 'type', 'linux', 'action', 'assigned', 'before', '', 'after', 'linux', 'reason', `n${i}`, 'actor', 'system', 'cause', 'hello');
  }
  await p.exec();
});
afterAll(async () => {
  await deployments.stop();
  redis?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('audit paging', () => {
  it('Z5 A5: pages from the end, newest first; the cursor continues with no duplicate and no gap over 1,234 entries', async () => {
    const ctx = ledgerContext(redis, keys);
    const seen: string[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await readAuditPage(ctx, DEFAULT_TENANT, { limit: 100, before });
      seen.push(...page.entries.map((e) => e.id));
      expect(page.entries.length).toBeLessThanOrEqual(100);
      if (!page.next) break;
      before = page.next;
    }
    expect(seen).toEqual([...written].reverse());
    expect(new Set(seen).size).toBe(1234);
  });

  it('Z5 A5: the default page is the newest 50; a client filter and --since bound it too', async () => {
    const ctx = ledgerContext(redis, keys);
    const first = await readAuditPage(ctx, DEFAULT_TENANT);
    expect(first.entries.map((e) => e.id)).toEqual(written.slice(-50).reverse());
    expect(first.next).toBe(written[written.length - 50]);

    const c7 = await readAuditPage(ctx, DEFAULT_TENANT, { clientId: 'c-7', limit: 1000 });
    expect(c7.entries).toHaveLength(Math.floor(1234 / 7));
    expect(c7.entries.every((e) => e.holder === 'c-7')).toBe(true);
    expect(c7.next).toBeNull();

    const since = Number(written[1000]!.split('-')[0]);
    const recent = await readAuditPage(ctx, DEFAULT_TENANT, { since, limit: 10_000 });
    expect(recent.entries.map((e) => e.id)).toEqual(written.slice(1000).reverse());
    expect(recent.next).toBeNull();
  });

  it('Z5 A5: `admin audit --limit --before` as a real CLI: the table ends with the cursor, --json pages continue', async () => {
    const table = await runAdminCli(keys, ['audit', '--limit', '3'], { dataDir });
    expect(table.status).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 3 + 2);
    expect(lines[lines.length - 1]).toBe(`older entries: --before ${written[written.length - 3]}`);

    const one = await runAdminCli(keys, ['audit', '--limit', '5', '--json'], { dataDir });
    const a = JSON.parse(one.stdout) as { id: string }[];
    const two = await runAdminCli(keys, ['audit', '--limit', '5', '--before', a[4]!.id, '--json'], { dataDir });
    const b = JSON.parse(two.stdout) as { id: string }[];
    expect([...a, ...b].map((e) => e.id)).toEqual(written.slice(-10).reverse());

    const bad = await runAdminCli(keys, ['audit', '--before', 'yesterday'], { dataDir });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--before must be an audit entry id/);
  });
});
