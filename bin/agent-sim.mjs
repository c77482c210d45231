#!/usr/bin/env node
// Entry point of the `agent-sim` command (fleet simulator): runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../agent-sim/cli.ts');
process.exit(await main(process.argv.slice(2)));
