/**
 * Generates the published artefacts of the one schema in code (`npm run schema`):
 * `agentium.schema.json` and the key reference in `docs/configuration.md` (between markers).
 * A test fails when either drifts from the code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { envNameOf } from './load.js';
import { configJsonSchemaObject } from './json-schema.js';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema> };

function jsonSchema(): JsonSchema {
  return configJsonSchemaObject() as JsonSchema;
}

export function configJsonSchema(): string {
  return `${JSON.stringify({ ...jsonSchema(), title: 'Agentium configuration (.agentium.yaml)' }, null, 2)}\n`;
}

export const referenceStart = '<!-- generated:config-reference:start (npm run schema) -->';
export const referenceEnd = '<!-- generated:config-reference:end -->';

function typeOf(schema: JsonSchema): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => `\`${String(value)}\``).join(' \\| ');
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as JsonSchema[]).map(typeOf).join(' or ');
  if (schema.type === 'array') return `list of ${typeOf((schema.items as JsonSchema | undefined) ?? {})}`;
  return String(schema.type ?? 'any');
}

/** One table row per leaf key: key, type, default, environment variable, description. */
export function configReference(): string {
  const rows: string[] = [];
  const walk = (schema: JsonSchema, path: string[], required: boolean): void => {
    if (schema.type === 'object' && schema.properties) {
      const requiredKeys = new Set((schema.required as string[] | undefined) ?? []);
      for (const [key, child] of Object.entries(schema.properties)) walk(child, [...path, key], requiredKeys.has(key));
      return;
    }
    if (path[0] === '$schema') return;
    const fallback = schema.default === undefined ? (required ? '*required*' : '—') : `\`${JSON.stringify(schema.default)}\``;
    const description = String(schema.description ?? '').replace(/\|/g, '\\|');
    rows.push(`| \`${path.join('.')}\` | ${typeOf(schema)} | ${fallback} | \`${envNameOf(path)}\` | ${description} |`);
  };
  walk(jsonSchema(), [], false);
  return [
    referenceStart,
    '| key | type | default | environment | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    referenceEnd,
  ].join('\n');
}

export function withReference(markdown: string): string {
  const start = markdown.indexOf(referenceStart);
  const end = markdown.indexOf(referenceEnd);
  if (start < 0 || end < 0) throw new Error('docs/configuration.md lacks the generated-reference markers');
  return markdown.slice(0, start) + configReference() + markdown.slice(end + referenceEnd.length);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const schemaFile = new URL('../../../agentium.schema.json', import.meta.url);
  const docsFile = new URL('../../../docs/configuration.md', import.meta.url);
  writeFileSync(schemaFile, configJsonSchema());
  writeFileSync(docsFile, withReference(readFileSync(docsFile, 'utf8')));
  process.stdout.write(`wrote ${schemaFile.pathname} and ${docsFile.pathname}\n`);
}
