/**
 * H2 Z2 with real processes: a zero-config `licensegate serve` (embedded Redis, LOG_LEVEL=trace)
 * prints the technician's set-up link once; the /setup page is served; the link sets the
 * password; login, session, CSRF and logout work over the real HTTP port with the API
 * assembled by admin-http; the CLI (`licensegate admin accounts|tokens|users`) reaches the same
 * Redis; no password, session id, CSRF token or API token appears in any output, and the set-up
 * token only on the ready line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/store/keys.ts';
import { clearedTargetEnv } from '../../src/store/redis-target.ts';
import { runAdminCli } from '../helpers/admin-cli.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'lg-accounts-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const zero = { ...clearedTargetEnv(), KEY_PREFIX: '', QUEUE_PREFIX: '', LICENSE_POOL: '', ENROLLMENT_TOKEN: '', DATA_DIR: dataDir };
const PASSWORD = 'Tr0ub4dor & 3 horses';

async function call(base: string, method: string, path: string, o: { body?: unknown; headers?: Record<string, string> } = {}) {
  const r = await fetch(`${base}${path}`, { method, headers: { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers }, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, body: text.startsWith('{') ? JSON.parse(text) : undefined };
}

describe('the first admin of a zero-config start', () => {
  it('H2 Z2: set-up link printed once → password set → login → a POST without X-CSRF-Token is CSRF_FAILED and changes nothing → with it accepted; CLI create-admin, tokens, list, reset (ends the session: 401); no secret in any output', async () => {
    const gw = await startGatewayProcess({ ...zero, LOG_LEVEL: 'trace', LOG_FORMAT: 'json' }, 40_000);
    const secrets: string[] = [PASSWORD];
    const cliLogs: string[] = [];
    let output = '';
    try {
      const links = [...gw.output().matchAll(/admin set-up: (http:\/\/\S+)\/setup#token=([A-Za-z0-9_-]{43})/g)];
      expect(links).toHaveLength(1);
      const base = gw.healthUrl;
      expect(links[0]![1]).toBe(base);
      const setupToken = links[0]![2]!;

      const page = await call(base, 'GET', '/setup');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.text).toContain('<label for="password">');
      expect(page.text).not.toMatch(/<(script|link|img)[^>]+(src|href)=/); // self-contained

      const set = await call(base, 'POST', '/api/v1/auth/setup', { body: { token: setupToken, password: PASSWORD } });
      expect(set.body.account).toMatchObject({ id: 'technician', tenantId: 'default', passwordSet: true });

      const login = await call(base, 'POST', '/api/v1/auth/login', { body: { name: 'technician', password: PASSWORD } });
      expect(login.status).toBe(200);
      const cookie = /^(lg_session=[^;]+)/.exec(login.headers.get('set-cookie')!)![1]!;
      const csrf = login.body.csrfToken as string;
      secrets.push(cookie.slice('lg_session='.length), csrf);
      expect((await call(base, 'GET', '/api/v1/auth/session', { headers: { cookie } })).body).toMatchObject({ account: { id: 'technician' }, via: 'session' });

      const refused = await call(base, 'POST', '/api/v1/tokens', { body: { name: 'ci' }, headers: { cookie } });
      expect(`${refused.status} ${refused.body.code}`).toBe('403 CSRF_FAILED');
      expect((await call(base, 'GET', '/api/v1/tokens', { headers: { cookie } })).body.tokens).toEqual([]);
      const made = await call(base, 'POST', '/api/v1/tokens', { body: { name: 'ci' }, headers: { cookie, 'x-csrf-token': csrf } });
      expect(made.status).toBe(201);
      secrets.push(made.body.token);
      const byToken = await call(base, 'GET', '/api/v1/accounts', { headers: { authorization: `Bearer ${made.body.token}` } });
      expect(byToken.body.accounts.map((a: { id: string }) => a.id)).toEqual(['technician']);
      // The account routes are in the OpenAPI document of the assembled API.
      expect(Object.keys((await call(base, 'GET', '/api/v1/openapi.json')).body.paths)).toEqual(expect.arrayContaining(['/api/v1/auth/login', '/api/v1/accounts/{accountId}', '/api/v1/tokens/{tokenId}']));

      // The CLI on the same DATA_DIR (the embedded Redis it recorded).
      const cli = (args: string[]) => runAdminCli(new Keys(), args, { dataDir, env: { ...zero, LOG_LEVEL: 'info' } });
      const admin = await cli(['users', 'create-admin', '--name', 'ops', '--permissions', 'license-management', '--url', base, '--json']);
      cliLogs.push(admin.stderr);
      expect(admin.status, admin.stderr).toBe(0);
      const created = JSON.parse(admin.stdout);
      expect(created).toMatchObject({ account: { id: 'ops', tenantId: 'default', permissions: ['license-management'], passwordSet: false }, setupUrl: expect.stringMatching(new RegExp(`^${base}/setup#token=`)) });
      expect(admin.stderr).toContain('admin account created');
      expect(admin.stderr).not.toContain(created.setupToken);
      const token = await cli(['tokens', 'create', '--account', 'OPS', '--name', 'svc', '--expires-days', '30']);
      cliLogs.push(token.stderr);
      expect(token.status, token.stderr).toBe(0);
      const apiToken = /^(lgt_[a-f0-9]{16}_\S{43})$/m.exec(token.stdout)![1]!;
      secrets.push(apiToken);
      expect(token.stderr).not.toContain(apiToken);
      const asOps = await call(base, 'GET', '/api/v1/auth/session', { headers: { authorization: `Bearer ${apiToken}` } });
      expect(asOps.body).toMatchObject({ account: { id: 'ops', permissions: ['license-management'] }, via: 'token' });
      const list = await cli(['accounts', 'list']);
      expect(list.stdout).toMatch(/^ops\s+ops\s+default\s+license-management\s+no\s+no/m);
      const revoked = await cli(['tokens', 'revoke', apiToken.split('_')[1]!]);
      cliLogs.push(revoked.stderr);
      expect(revoked.stderr).toContain('API token revoked');
      expect(revoked.status, revoked.stderr).toBe(0);
      expect((await call(base, 'GET', '/api/v1/auth/session', { headers: { authorization: `Bearer ${apiToken}` } })).status).toBe(401);
      const reset = await cli(['accounts', 'reset-password', 'technician', '--url', base]);
      cliLogs.push(reset.stderr);
      expect(reset.stdout).toMatch(/admin set-up: http:\/\/\S+\/setup#token=/);
      // The reset ended the technician's session.
      expect((await call(base, 'GET', '/api/v1/auth/session', { headers: { cookie } })).status).toBe(401);

      const login2 = await call(base, 'POST', '/api/v1/auth/login', { body: { name: 'technician', password: PASSWORD } });
      expect(login2.body.code).toBe('LOGIN_FAILED'); // the reset cleared the password
      const unknown = await call(base, 'POST', '/api/v1/auth/login', { body: { name: 'nobody', password: PASSWORD } });
      expect(unknown.body.code).toBe('LOGIN_FAILED');
    } finally {
      expect(await gw.stop()).toBe(0);
      output = gw.output();
    }
    expect(output).toContain('"msg":"admin login"'); // the log was written (LOG_LEVEL=trace): the scan covers it
    for (const s of secrets) expect(output).not.toContain(s);
    // The CLI's logs (stderr) hold no secret either; its stdout shows the link or token once, by design.
    for (const s of secrets) for (const log of cliLogs) expect(log).not.toContain(s);
    expect(output.match(/#token=/g)).toHaveLength(1);
  });
});
