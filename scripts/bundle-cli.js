// Build step (after tsc): bundle the `agentium` CLI into dist/cli/ — its own code and its small
// dependencies (commander, yaml, valibot) as a few ES modules, split so each command's code still
// loads only when that command runs. Loading yaml as one file instead of ~70 is most of what keeps
// `run --dry-run` within its start-up budget on Node 24 (docs/performance.md, "Start-up"). The
// cloud SDKs and Octokit stay outside: they load from node_modules, lazily, as before. The tests
// run this bundle (test/support/cli.ts), so what ships is what is tested.
import { build } from 'esbuild';

await build({
  entryPoints: { bin: 'dist/src/bin.js' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'bundle',
  external: ['@google-cloud/*', '@aws-sdk/*', 'google-auth-library', '@octokit/*'],
  // CommonJS dependencies (yaml, commander) call require() for Node's built-ins.
  banner: { js: "import { createRequire as __agentiumCreateRequire } from 'node:module';\nconst require = __agentiumCreateRequire(import.meta.url);" },
  // Flat, beside bin.js: the code finds package.json and help.txt relative to itself, at the same depth as in dist/src/.
  chunkNames: '[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
