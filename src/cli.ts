/**
 * The `agentium` entry point. Only commander is imported up front: every command's module (and
 * with it any cloud SDK) is loaded with `await import()` when that command runs, so `--help`,
 * `--version` and `run --dry-run` stay close to a bare Node start (DESIGN §6).
 */
import { createRequire } from 'node:module';
import type * as Commander from 'commander';
import { ExitCode, UsageError } from './errors.js';
import { endQuietlyWhenStdoutCloses, isStdoutClosed, reportError } from './output.js';

// Loaded with require, not import: an ESM import of node:fs builds a facade that loads its stream
// classes, and one of a CommonJS package (commander) runs the CJS export lexer first. Together
// about 10 ms of a 45 ms Node 24 start (docs/performance.md, "Start-up").
const require = createRequire(import.meta.url);
const { Command, CommanderError, Option } = require('commander') as typeof Commander;
type Command = Commander.Command;
const packageJson = require('../../package.json') as { version: string; description: string };

/** True when `--json` was given anywhere on the command line, so even parse errors come out as JSON. */
const wantsJson = (argv: readonly string[]): boolean => argv.includes('--json');

function positiveInteger(name: string) {
  return (value: string): number => {
    if (!/^[1-9][0-9]{0,9}$/.test(value)) {
      throw new UsageError(`${name} must be a positive integer, got "${value}"`, {
        hint: `for example: --${name} 123`,
      });
    }
    return Number(value);
  };
}

export function buildProgram(): Command {
  const program = new Command('agentium')
    // One sentence, no line breaks of our own: commander wraps it to the terminal's width.
    .description(packageJson.description)
    .version(packageJson.version, '-v, --version')
    // Set before subcommands are added so they inherit it: parse errors reach our one handler.
    .exitOverride()
    // A fixed width, not the terminal's: help reads the same everywhere, so the build can keep the
    // top-level help as text that bin.ts prints without loading commander (docs/performance.md).
    .configureHelp({ helpWidth: 80 })
    .configureOutput({ outputError: () => undefined })
    .addHelpText(
      'after',
      `
Examples:
  $ agentium init --provider gcp --repo acme/widgets --app-id 12345 --project acme-agents --yes
  $ agentium run --issue 123 --dry-run
  $ agentium run --issue 123 --repo acme/widgets --provider aws --dry-run --json
  $ agentium run --issue 123 --local
  $ agentium status --watch
  $ agentium destroy --all --yes
  $ ./build.sh 2>&1 | agentium redact --secret-env GITHUB_TOKEN

Exit codes: 0 ok, 1 failure, 2 usage/config, 3 auth, 4 not found, 5 capacity/quota, 6 policy refusal.
Docs: docs/configuration.md, docs/security.md, docs/operations.md`,
    );

  program
    .command('run')
    .description('Provision a VM that turns one issue into a pull request (or print the plan with --dry-run)')
    .requiredOption('-i, --issue <number>', 'issue number to work on', positiveInteger('issue'))
    .option('-r, --repo <owner/name>', 'repository (default: "repo" from the config)')
    .addOption(new Option('-p, --provider <provider>', 'where the session runs').choices(['gcp', 'aws', 'local']))
    .option('--local', 'run the controller on this machine against the local Docker Engine (same as --provider local)')
    .option('-c, --config <file>', 'configuration file', '.agentium.yaml')
    .option('--lifetime <duration>', 'hard cap on the session, e.g. 90m or 2h (default: session.lifetime)')
    .option('--on-demand', 'use an on-demand instead of a spot VM')
    .option('--dry-run', 'print the session spec, cloud request and user-data; touch nothing')
    .option('--json', 'print one JSON document on stdout (errors too)')
    .addHelpText(
      'after',
      `
Examples:
  $ agentium run --issue 123 --dry-run                      # the plan, no credentials needed
  $ agentium run --issue 123 --repo acme/widgets --provider gcp --dry-run --json
  $ agentium run --issue 123 --local                        # same controller, local Docker`,
    )
    .action(async (options, command: Command) => {
      const { runCommand } = await import('./commands/run.js');
      await runCommand(options, command);
    });

  program
    .command('init')
    .description('Write .agentium.yaml (interactive on a terminal, or from flags with --yes)')
    .addOption(new Option('-p, --provider <provider>', 'where sessions run (default: local, the config default)').choices(['gcp', 'aws', 'local']))
    .option('-r, --repo <owner/name>', 'repository the agent works on')
    .option('--app-id <id>', 'GitHub App id')
    .option('--private-key-secret <name>', 'secret holding the GitHub App private key', 'agentium-github-app-key')
    .option('--project <id>', 'GCP project id')
    .option('--region <region>', 'AWS region')
    .option('-c, --config <file>', 'file to write', '.agentium.yaml')
    .option('-y, --yes', 'do not prompt; take flags and defaults')
    .option('-f, --force', 'overwrite an existing file')
    .addHelpText(
      'after',
      `
Examples:
  $ agentium init                                            # asks on a terminal
  $ agentium init --provider aws --repo acme/widgets --app-id 12345 --region eu-west-1 --yes`,
    )
    .action(async (options, command: Command) => {
      const { initCommand } = await import('./commands/init.js');
      await initCommand(options, command);
    });

  program
    .command('status')
    .description('List managed sessions in every configured zone/region, with the phase each controller reports')
    .argument('[session]', 'one session id')
    .addOption(new Option('-p, --provider <provider>', 'only this cloud (default: every configured cloud)').choices(['gcp', 'aws']))
    .option('-c, --config <file>', 'configuration file', '.agentium.yaml')
    .option('-w, --watch', 'refresh until interrupted (or until the named session is gone)')
    .option('--interval <seconds>', 'refresh interval for --watch', '5')
    .option('--json', 'print one JSON document on stdout (with --watch: one per line)')
    .addHelpText(
      'after',
      `
Examples:
  $ agentium status
  $ agentium status agentium-123-ab12cd34 --watch
  $ agentium status --provider aws --json`,
    )
    .action(async (session: string | undefined, options, command: Command) => {
      const { statusCommand } = await import('./commands/status.js');
      await statusCommand(session, options, command);
    });

  program
    .command('destroy')
    .description('Delete sessions by id, or every managed instance with --all (the kill switch)')
    .argument('[sessions...]', 'session ids to delete')
    .option('-a, --all', 'every instance carrying the agentium label/tag, in every configured zone/region')
    .option('-y, --yes', 'do not ask for confirmation (required with --all when not on a terminal)')
    .addOption(new Option('-p, --provider <provider>', 'only this cloud (default: every configured cloud)').choices(['gcp', 'aws']))
    .option('-c, --config <file>', 'configuration file', '.agentium.yaml')
    .option('--concurrency <n>', 'delete calls in flight at once', '16')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      `
Only instances carrying the agentium managed label/tag are ever touched. Already gone counts as
success. Exit code 1 if any deletion failed.

Examples:
  $ agentium destroy agentium-123-ab12cd34
  $ agentium destroy --all --yes --json`,
    )
    .action(async (sessions: string[], options, command: Command) => {
      const { destroyCommand } = await import('./commands/destroy.js');
      await destroyCommand(sessions, options, command);
    });

  program
    .command('redact')
    .description('Stream stdin to stdout with secrets replaced by [REDACTED:<rule>]')
    .option(
      '--secret-env <NAME>',
      'also mask the value of environment variable NAME (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addHelpText(
      'after',
      `
A reader that stops early (agentium redact | head) ends it quietly with exit code 0.

Examples:
  $ agentium redact < build.log > build.redacted.log
  $ GITHUB_TOKEN=... some-command 2>&1 | agentium redact --secret-env GITHUB_TOKEN`,
    )
    .action(async (options) => {
      const { redactCommand } = await import('./commands/redact.js');
      await redactCommand(options);
    });

  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const json = wantsJson(argv);
  const program = buildProgram();
  endQuietlyWhenStdoutCloses();
  try {
    await program.parseAsync(argv as string[]);
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (error) {
    if (isStdoutClosed(error)) return ExitCode.ok;
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.ok; // --help, --version
      const message = error.message.replace(/^error: /, '');
      return reportError(new UsageError(message, { hint: 'run with --help for usage' }), json);
    }
    return reportError(error, json);
  }
}


/** The top-level `--help` text exactly as commander prints it; the build stores it (scripts/write-help-cache.js). */
export function topLevelHelp(): string {
  let text = '';
  const program = buildProgram().configureOutput({ writeOut: (chunk) => (text += chunk) });
  program.outputHelp();
  return text;
}
