/**
 * `--state FILE`: the simulated fleet's identities and credentials between runs, so a second
 * run reconnects the same Clients with their credentials instead of enrolling new ones. Each
 * agent's enrollment proof is kept with its client id (SPEC Z3), as a real agent keeps it with
 * its install. The file holds secrets: it is created with mode 0600 and replaced atomically (temporary file in
 * the same directory, fsync, rename), so a crash never leaves half a file.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { z } from 'zod';
import type { AgentState } from './agent.ts';

/** Identifies the file type; a different `format` is refused. */
export const STATE_FORMAT = 'licensegate-agent-sim-state';
/** Version of the layout; another version is refused. */
export const STATE_VERSION = 1;

/** The state file is missing a piece, is not ours, or belongs to another tenant. */
export class StateFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateFileError';
  }
}

/** One agent as stored: only enrolled agents (with a credential) are kept. */
const agentStateSchema = z.object({
  clientId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  tenantId: z.string().min(1),
  credential: z.string().min(1),
  /** Hello.enrollment_proof of this install (SPEC Z3); absent in files of older versions. */
  enrollmentProof: z.string().regex(/^[\x21-\x7e]{16,128}$/).optional(),
  lastAckedSeq: z.number().int().min(0),
  os: z.object({
    family: z.number().int().min(0),
    productType: z.number().int().min(0).optional(),
    multiSession: z.boolean().optional(),
    cloudProvider: z.string().optional(),
    version: z.string().optional(),
  }),
  hostname: z.string(),
  nonPersistent: z.boolean(),
});

const stateFileSchema = z.object({
  format: z.literal(STATE_FORMAT),
  version: z.literal(STATE_VERSION),
  tenant: z.string(),
  savedAt: z.string().optional(),
  /** The OS mix (`name:weight,…`) the fleet was made with; absent in files of older versions. */
  osMix: z.string().max(1024).optional(),
  agents: z.array(agentStateSchema),
});

/** Contents of a state file. */
export interface StateFile {
  tenant: string;
  /**
   * The fleet's OS mix (`name:weight,…`), so that a re-run without --os-mix tops the fleet up
   * (agents that uninstalled or never enrolled left the file) with the same mix (issue 12).
   */
  osMix?: string | undefined;
  /** Enrolled agents, in fleet order. */
  agents: AgentState[];
}

/**
 * Reads FILE; null when it does not exist. Throws StateFileError when it cannot be read, is not
 * a valid state file, repeats a client id, or was saved for another tenant than `tenant`.
 */
export async function loadStateFile(path: string, tenant: string): Promise<StateFile | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StateFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StateFileError(`${path} is not JSON: ${(err as Error).message}`);
  }
  const parsed = stateFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new StateFileError(`${path} is not an agent-sim state file (${issue.path.join('.') || 'top level'}: ${issue.message})`);
  }
  const file = parsed.data;
  if (file.tenant !== tenant || file.agents.some((a) => a.tenantId !== tenant)) {
    throw new StateFileError(`${path} holds agents of tenant "${file.tenant}", not "${tenant}"`);
  }
  const ids = new Set<string>();
  for (const a of file.agents) {
    if (ids.has(a.clientId)) throw new StateFileError(`${path} lists client id ${a.clientId} twice`);
    ids.add(a.clientId);
  }
  return { tenant: file.tenant, agents: file.agents, ...(file.osMix !== undefined ? { osMix: file.osMix } : {}) };
}

/** Writes FILE atomically with mode 0600 (temporary file + fsync + rename). */
export async function saveStateFile(path: string, state: StateFile): Promise<void> {
  const body = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    tenant: state.tenant,
    savedAt: new Date().toISOString(),
    agents: state.agents,
  };
  const mix = state.osMix === undefined ? '' : `"osMix":${JSON.stringify(state.osMix)},`;
  // One agent per line: diffable, and no giant single line for big fleets.
  const text = `{"format":${JSON.stringify(body.format)},"version":${body.version},"tenant":${JSON.stringify(body.tenant)},"savedAt":${JSON.stringify(body.savedAt)},${mix}"agents":[\n${body.agents.map((a) => JSON.stringify(a)).join(',\n')}\n]}\n`;
  await writeFileAtomic(path, text, 0o600);
}

/** Replaces `path` with `text` so that readers see the old or the new file, never a mix. */
export async function writeFileAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
