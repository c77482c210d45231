/**
 * H2 A2: the default tenant keeps one enabled technician (every permission) even when two
 * administrators change the last two at the same instant. Both changes go through the real
 * admin HTTP routes (ApiRouter on node:http, real Redis) and are fired together; exactly one
 * may win, the other must answer 409 LAST_ADMIN — over many rounds, for every pair of
 * disable / strip a permission / delete.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AccountStore, type Account } from '../../src/accounts/account-store.ts';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import { bearer, createTestAccount, ALL_PERMISSIONS } from '../helpers/accounts.ts';
import { startAccountApi, type AccountApi } from '../helpers/account-http.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';

const redis = await connectRedis();
afterAll(() => redis.disconnect());

/** The ground truth: every permission, in the default tenant, enabled. */
const isTechnician = (a: Account): boolean => a.tenantId === 'default' && !a.disabled && ALL_PERMISSIONS.every((p) => a.permissions.includes(p));

type Change = 'disable' | 'strip' | 'delete';
const PAIRS: [Change, Change][] = [
  ['disable', 'disable'],
  ['disable', 'strip'],
  ['strip', 'strip'],
  ['delete', 'disable'],
  ['delete', 'strip'],
  ['delete', 'delete'],
];
const ROUNDS_PER_PAIR = 5;

function send(api: AccountApi, token: string, change: Change, accountId: string) {
  const headers = bearer(token);
  if (change === 'delete') return api.call('DELETE', `/accounts/${accountId}`, { headers });
  const body = change === 'disable' ? { disabled: true } : { permissions: [PERMISSIONS.clients, PERMISSIONS.tenants] };
  return api.call('PATCH', `/accounts/${accountId}`, { body, headers });
}

describe('last technician under concurrent changes', () => {
  it('H2 A2: two simultaneous changes of the last two technicians: exactly one succeeds, the other is 409 LAST_ADMIN, one technician stays', async () => {
    const outcomes: string[] = [];
    for (const [a, b] of PAIRS) {
      for (let round = 0; round < ROUNDS_PER_PAIR; round++) {
        const k = newKeys('lastrace');
        const api = await startAccountApi(redis, k);
        try {
          // The acting administrator manages accounts but is no technician itself.
          const ops = await createTestAccount(redis, k, { name: 'ops', tenantId: 'default', permissions: [PERMISSIONS.tenants] });
          const t1 = await createTestAccount(redis, k, { name: 'tech1', tenantId: 'default', permissions: ALL_PERMISSIONS });
          const t2 = await createTestAccount(redis, k, { name: 'tech2', tenantId: 'default', permissions: ALL_PERMISSIONS });
          const [r1, r2] = await Promise.all([send(api, ops.apiToken, a, t1.account.id), send(api, ops.apiToken, b, t2.account.id)]);
          const answers = [`${r1.status} ${r1.body?.code ?? ''}`.trim(), `${r2.status} ${r2.body?.code ?? ''}`.trim()].sort();
          outcomes.push(`${a}+${b}: ${answers.join(' | ')}`);
          const left = (await new AccountStore(redis, k).list('default')).filter(isTechnician);
          outcomes.push(`${a}+${b}: technicians left ${left.length}`);
        } finally {
          await api.close();
        }
      }
    }
    const bad = outcomes.filter((o) => !/: 200 \| 409 LAST_ADMIN$/.test(o) && !/technicians left 1$/.test(o));
    expect(bad, bad.join('\n')).toEqual([]);
  });
});
