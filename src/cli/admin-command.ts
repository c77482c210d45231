/**
 * `licensegate admin …`: licensing administration from a shell (serial keys, tenants, Clients,
 * PAM seats) through the AdminApi. Every command prints an aligned table, or with --json its
 * result as JSON; see ADMIN_COMMANDS for the commands.
 *
 * Exit codes: 0 done; 1 the command failed (`{"error":{"code","message"}}` on stdout with
 * --json, `licensegate admin: CODE: message` on stderr otherwise); 2 the command line is wrong
 * (one line on stderr).
 */
import type { AdminApi } from '../admin/admin-api.ts';
import { ALL_LICENSE_TYPES } from '../licensing/license-types.ts';
import { ACTOR_ENV, resolveActor } from './admin-actor.ts';
import type { Actor } from '../licensing/permissions.ts';
import { AdminUsageError, booleanFlag, parseLine, stringFlag, takeWord, type ParsedLine } from './admin-args.ts';
import { ACCOUNT_COMMANDS } from './account-commands.ts';
import { ADMIN_COMMANDS, type AdminCommand } from './admin-command-table.ts';
import { openAdminApi, openRemoteAdminApi, remoteServer, type RemoteFlags } from './admin-connection.ts';
import { printFailure, printResult, printUsageError, PROGRAM } from './admin-output.ts';

type Invocation =
  | { kind: 'help'; text: string }
  | { kind: 'run'; json: boolean; actorFlag: string | undefined; remote: RemoteFlags; cmd: AdminCommand; line: ParsedLine };

function commandLines(commands: readonly AdminCommand[]): string {
  return commands.map((c) => `  ${[c.name, c.synopsis].filter(Boolean).join(' ')}\n      ${c.summary}`).join('\n');
}

function usage(commands: readonly AdminCommand[] = ADMIN_COMMANDS): string {
  return `usage: ${PROGRAM} <command> [arguments] [--json] [--actor JSON]

commands:
${commandLines(commands)}

options (every command):
  --json          print the result as JSON on stdout; a failure as {"error":{"code","message"}}
  --actor JSON    act as {"userId":…,"tenantId":…,"permissions":[…]} (else ${ACTOR_ENV},
                  else the default tenant's technician with every permission); commands
                  with --tenant act in the actor's tenant when --tenant is not given

license types: ${ALL_LICENSE_TYPES.join(', ')}

Remote: --server URL (or LICENSEGATE_SERVER) uses the admin HTTP API instead of Redis, as the
account of --token (better: LICENSEGATE_TOKEN, which other users cannot read in \`ps\`);
--ca FILE (or LICENSEGATE_CA) trusts a private CA. --actor does not apply (docs/api.md).

Redis: REDIS_URL, else the Redis that \`npm start\` (licensegate serve) recorded in DATA_DIR
(default ./data). Keys: KEY_PREFIX, QUEUE_PREFIX. Serial keys verify with VENDOR_PUBLIC_KEYS.
Exit codes: 0 done, 1 the command failed, 2 the command line is wrong.`;
}

const hasHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h');

function parseInvocation(args: readonly string[]): Invocation {
  const { word: group, rest } = takeWord(args);
  if (group === undefined) {
    const line = parseLine(rest, {});
    if (booleanFlag(line.values, 'help')) return { kind: 'help', text: usage() };
    throw new AdminUsageError(line.positionals.length ? `unknown command "${line.positionals[0]}"` : 'missing command');
  }
  const family = ADMIN_COMMANDS.filter((c) => c.name.split(' ')[0] === group);
  if (family.length === 0) throw new AdminUsageError(`unknown command "${group}"`);
  let cmd = family.find((c) => c.name === group);
  let tail = rest;
  if (!cmd) {
    const { word: sub, rest: afterSub } = takeWord(rest);
    cmd = family.find((c) => c.name === `${group} ${sub}`);
    if (!cmd) {
      if (sub === undefined && hasHelp(rest)) return { kind: 'help', text: usage(family) };
      const subs = family.map((c) => c.name.split(' ')[1]).join(', ');
      throw new AdminUsageError(sub === undefined ? `missing ${group} command (${subs})` : `unknown ${group} command "${sub}" (${subs})`);
    }
    tail = afterSub;
  }
  const line = parseLine(tail, cmd.flags);
  if (booleanFlag(line.values, 'help')) return { kind: 'help', text: usage([cmd]) };
  const remote = { server: stringFlag(line.values, 'server'), token: stringFlag(line.values, 'token'), ca: stringFlag(line.values, 'ca') };
  // Checked now, before anything connects: a wrong line is a usage error (exit 2) either way.
  cmd.prepare(line);
  return { kind: 'run', json: booleanFlag(line.values, 'json'), actorFlag: stringFlag(line.values, 'actor'), remote, cmd, line };
}

/**
 * A command that takes `--tenant` and was given none acts in the actor's own tenant (issue 12:
 * `--actor` of tenant acme alone used to search the default tenant and answer UNKNOWN_TENANT);
 * with --server, in the tenant of the token's account. The technician's tenant is the default one.
 */
function inActorTenant(cmd: AdminCommand, line: ParsedLine, tenantId: string): ParsedLine {
  if (!takesActorTenant(cmd, line)) return line;
  return { ...line, values: { ...line.values, tenant: tenantId } };
}

/** Account commands work on Redis as the operator, not as an actor: their --tenant keeps its own default. */
function takesActorTenant(cmd: AdminCommand, line: ParsedLine): boolean {
  return 'tenant' in cmd.flags && stringFlag(line.values, 'tenant') === undefined && !ACCOUNT_COMMANDS.includes(cmd);
}

export async function runAdmin(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = parseInvocation(args);
  } catch (err) {
    if (!(err instanceof AdminUsageError)) throw err;
    printUsageError(err.message);
    return 2;
  }
  if (invocation.kind === 'help') {
    process.stdout.write(`${invocation.text}\n`);
    return 0;
  }
  const { json, actorFlag, remote, cmd, line } = invocation;
  let api: AdminApi | undefined;
  try {
    let tenantId: string;
    if (remoteServer(remote, env)) {
      api = openRemoteAdminApi(remote, actorFlag, env);
      tenantId = takesActorTenant(cmd, line) ? await api.actorTenant() : '';
    } else {
      const actor: Actor = resolveActor(actorFlag, env);
      tenantId = actor.tenantId;
      api = await openAdminApi(actor, env);
    }
    const work = cmd.prepare(inActorTenant(cmd, line, tenantId));
    const out = await work(api);
    printResult(json, out.json, out.human);
    return 0;
  } catch (err) {
    if (err instanceof AdminUsageError) {
      printUsageError(err.message);
      return 2;
    }
    printFailure(json, err);
    return 1;
  } finally {
    await api?.close().catch(() => {});
  }
}
