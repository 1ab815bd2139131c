// Loads the EC2 fake from test/fakes (TypeScript) for plain-JS benchmarks: the same fake the tests
// use, with types stripped by TypeScript's transpiler into a temporary folder. No second fake.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const fakesRoot = fileURLToPath(new URL('../../test/fakes/', import.meta.url));
const files = ['gcp/http.ts', 'aws/sigv4.ts', 'aws/ec2.ts'];

export async function loadEc2Fake() {
  const out = mkdtempSync(join(tmpdir(), 'agentium-bench-fakes-'));
  for (const file of files) {
    const source = readFileSync(join(fakesRoot, file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const target = join(out, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  return import(pathToFileURL(join(out, 'aws/ec2.js')).href);
}
