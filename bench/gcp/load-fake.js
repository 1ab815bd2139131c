// Loads the GCP Compute fake from test/fakes (TypeScript) for plain-JS benchmarks: the same fake
// the tests use, with types stripped by TypeScript's transpiler into a temporary folder.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const fakesRoot = fileURLToPath(new URL('../../test/fakes/', import.meta.url));

export async function loadComputeFake() {
  const out = mkdtempSync(join(tmpdir(), 'agentium-bench-gcp-'));
  for (const file of ['gcp/http.ts', 'gcp/compute.ts']) {
    const { outputText } = ts.transpileModule(readFileSync(join(fakesRoot, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const target = join(out, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  return import(pathToFileURL(join(out, 'gcp/compute.js')).href);
}
