#!/usr/bin/env node
// Entry point of the `agent-sim` command (fleet simulator): runs the TypeScript sources through tsx.
// Its packages (tsx first) are checked before they are imported: on a fresh clone the
// entry point installs them, or says how (./packages.mjs), instead of ERR_MODULE_NOT_FOUND.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePackagesFor } from './packages.mjs';

ensurePackagesFor('agent-sim', join(dirname(fileURLToPath(import.meta.url)), '..'));
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../agent-sim/cli.ts');
process.exit(await main(process.argv.slice(2)));
