#!/usr/bin/env node
/**
 * The `agentium` executable. It turns on Node's on-disk compile cache (Node 22.1+; a no-op on
 * Node 20) *before* loading the CLI, so later starts reuse compiled code. `agentium --help` and
 * `--version` alone are answered here from what the build stored (the top-level help as commander
 * prints it, and package.json's version) without loading commander, which costs about a third of a
 * bare Node start on Node 24 (docs/performance.md, "Start-up"). Everything else goes to the CLI.
 */
import module from 'node:module';
import type * as Fs from 'node:fs';

const args = process.argv.slice(2);
const quick = args.length === 1 ? answerFromBuild(args[0] as string) : undefined;
if (quick !== undefined) {
  process.stdout.write(quick);
} else {
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  const { main } = await import('./cli.js');
  process.exitCode = await main();
}

/** The stored answer to `--help` / `--version`, or undefined (then commander answers). */
function answerFromBuild(arg: string): string | undefined {
  // require, not import: an ESM import of node:fs costs more than this whole answer.
  const require = module.createRequire(import.meta.url);
  try {
    if (arg === '--version' || arg === '-v') return `${(require('../../package.json') as { version: string }).version}\n`;
    if (arg === '--help' || arg === '-h') return (require('node:fs') as typeof Fs).readFileSync(new URL('../help.txt', import.meta.url), 'utf8');
  } catch {
    // No stored help (a build that skipped the step): commander prints it.
  }
  return undefined;
}
