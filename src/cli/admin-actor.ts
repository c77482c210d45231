/**
 * Who `licensegate admin` acts as (SPEC A2): `--actor JSON`, else the environment's
 * LICENSEGATE_ACTOR (same JSON), else the technician (the dev default).
 */
import { LicensegateError } from '../errors.ts';
import { actorSchema, TECHNICIAN, type Actor } from '../licensing/permissions.ts';
import { AdminUsageError } from './admin-args.ts';

export const ACTOR_ENV = 'LICENSEGATE_ACTOR';

function parseActor(text: string): { actor: Actor } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
  const parsed = actorSchema.safeParse(json);
  if (!parsed.success) return { problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'actor'}: ${i.message}`).join('; ') };
  return { actor: parsed.data };
}

/**
 * A bad --actor is a usage error (exit 2); a bad LICENSEGATE_ACTOR is a configuration error
 * (CONFIG_INVALID, exit 1).
 */
export function resolveActor(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Actor {
  if (flag !== undefined) {
    const r = parseActor(flag);
    if ('problem' in r) throw new AdminUsageError(`--actor: ${r.problem}`);
    return r.actor;
  }
  const fromEnv = env[ACTOR_ENV];
  if (fromEnv) {
    const r = parseActor(fromEnv);
    if ('problem' in r) throw new LicensegateError('CONFIG_INVALID', `${ACTOR_ENV}: ${r.problem}`);
    return r.actor;
  }
  return TECHNICIAN;
}
