/**
 * SPEC Z1 with H1: the remote CLI reaches an https:// licensegate whose certificate a private CA
 * signed, with `--ca FILE` (or LICENSEGATE_CA); without it the certificate is refused and the
 * CLI says API_UNAVAILABLE (exit 1) — it never falls back to trusting anything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../helpers/admin-cli.ts';
import { startApiStack, type ApiStack } from '../helpers/api-stack.ts';
import { createTestPki, tlsEnv, type TestPki } from '../helpers/test-certs.ts';

let pki: TestPki;
let stack: ApiStack;
let token: string;
let dataDir: string;

beforeAll(async () => {
  pki = createTestPki('lg-api-tls');
  stack = await startApiStack('rtls', tlsEnv(pki.server('api-tls', 0x3c1)));
  token = (await stack.account('default', [])).token;
  dataDir = mkdtempSync(join(tmpdir(), 'lg-remote-tls-'));
}, 30_000);

afterAll(async () => {
  await stack?.stop();
  pki?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('licensegate admin --server https://… --ca', () => {
  it('Z1 H1: --ca trusts the private CA; without it the certificate is refused (API_UNAVAILABLE)', async () => {
    expect(stack.base.startsWith('https://')).toBe(true);
    const env = { REDIS_URL: '', LICENSEGATE_TOKEN: token, LICENSEGATE_CA: '', NODE_EXTRA_CA_CERTS: '' };
    const [trusted, viaEnv, refused] = await Promise.all([
      runAdminCli(stack.keys, ['tenants', 'list', '--json', '--server', stack.base, '--ca', pki.ca], { dataDir, env }),
      runAdminCli(stack.keys, ['tenants', 'list', '--json', '--server', stack.base], { dataDir, env: { ...env, LICENSEGATE_CA: pki.ca } }),
      runAdminCli(stack.keys, ['tenants', 'list', '--server', stack.base], { dataDir, env }),
    ]);
    expect(trusted.status, trusted.stderr).toBe(0);
    expect(JSON.parse(trusted.stdout)).toContainEqual(expect.objectContaining({ id: 'default' }));
    expect(viaEnv.status, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toBe(trusted.stdout);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^licensegate admin: API_UNAVAILABLE: .*certificate/);
  });
});
