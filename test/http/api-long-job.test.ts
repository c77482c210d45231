/**
 * SPEC H1 A4: an admin API change answers with its job's result however long the job waits for
 * a worker (up to the job timeout) — the HTTP port's idle-socket guard (slowloris, Z-rules)
 * must not cut a request whose answer is still being prepared. Here the idle guard is 1 s
 * (HTTP_HEADERS_TIMEOUT_MS) and no worker runs until the request has waited 2.5 s.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiJobId } from '../../src/http/routes/job-call.ts';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { PERMISSIONS } from '../../src/licensing/permissions.ts';
import { startTestAdmin, type TestAdmin } from '../helpers/admin.ts';
import { startApiStack, type ApiStack } from '../helpers/api-stack.ts';
import { eventually } from '../helpers/gateway.ts';
import { ledgerContext } from '../helpers/ledger.ts';

let stack: ApiStack;
let worker: TestAdmin | undefined;
let tech: { id: string; token: string };

beforeAll(async () => {
  stack = await startApiStack('slow', { RUN_WORKERS: 'false', HTTP_HEADERS_TIMEOUT_MS: '1000' });
  tech = await stack.account('default', [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants]);
}, 30_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

describe('admin API requests that wait for their job', () => {
  it('A4 H1: a change whose job waits longer than the idle-socket timeout still gets its result', async () => {
    // Settled either way, so that a cut connection fails this test rather than the file.
    const answer = stack
      .call(tech.token, 'POST', '/tenants/default/users', { name: 'Patient User' }, { 'idempotency-key': 'slow-1' })
      .then((a) => a, (err: Error) => ({ status: 0, text: `connection failed: ${(err.cause as Error | undefined)?.message ?? err.message}`, json: undefined }));
    const jobKey = `${stack.keys.queuePrefix}:${ADMIN_QUEUE}:${apiJobId(tech.id, 'slow-1')}`;
    await eventually(async () => (await stack.redis.exists(jobKey)) === 1, 'the job is queued', 10_000);
    await delay(2_500); // the request now idles past the 1 s guard: the point of this test
    worker = await startTestAdmin(ledgerContext(stack.redis, stack.keys));
    const a = await answer;
    expect(a.status, a.text).toBe(201);
    expect(a.json).toMatchObject({ name: 'Patient User', seat: false });
  });
});
