/** Writes agentium.schema.json from the one schema in code (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema } from './schema.js';

export function configJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, title: 'Agentium configuration (.agentium.yaml)' }, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const target = new URL('../../../agentium.schema.json', import.meta.url);
  writeFileSync(target, configJsonSchema());
  process.stdout.write(`wrote ${target.pathname}\n`);
}
