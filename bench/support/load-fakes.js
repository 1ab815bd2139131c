// Loads fakes from test/fakes (TypeScript) for plain-JS benchmarks: the same fakes the tests use,
// types stripped by TypeScript's transpiler into a temporary folder.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const fakesRoot = fileURLToPath(new URL('../../test/fakes/', import.meta.url));

/** Transpiles `files` (paths under test/fakes, with their local imports) and imports `entry`. */
export async function transpileFakes(files, entry) {
  const out = mkdtempSync(join(tmpdir(), 'agentium-bench-fakes-'));
  for (const file of files) {
    const { outputText } = ts.transpileModule(readFileSync(join(fakesRoot, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const target = join(out, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  return import(pathToFileURL(join(out, entry)).href);
}

export function loadEc2Fake() {
  return transpileFakes(['http.ts', 'aws/sigv4.ts', 'aws/ec2.ts'], 'aws/ec2.js');
}

export function loadComputeFake() {
  return transpileFakes(['http.ts', 'gcp/google-error.ts', 'gcp/compute.ts'], 'gcp/compute.js');
}
