// Build step (after tsc): store the top-level `agentium --help` text as commander prints it, so
// bin.ts can answer `agentium --help` without loading commander. A test compares it with the live
// output, so a stale file fails CI.
import { writeFileSync } from 'node:fs';
import { topLevelHelp } from '../dist/src/cli.js';

writeFileSync(new URL('../dist/help.txt', import.meta.url), topLevelHelp());
