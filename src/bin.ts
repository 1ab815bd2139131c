#!/usr/bin/env node
/**
 * The `agentium` executable. It turns on Node's on-disk compile cache (Node 22.1+; a no-op on
 * Node 20) *before* loading the CLI, so later starts reuse compiled code. This is how `--help`
 * and `run --dry-run` stay inside their start-up budgets on Node versions whose own start is fast.
 */
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./cli.js');
