/** The JSON Schema of the config, derived from the one schema in code. */
import { toJsonSchema } from '@valibot/to-json-schema';
import { configSchema } from './schema.js';

export function configJsonSchemaObject(): Record<string, unknown> {
  // `check` actions (e.g. "not the default compute SA") have no JSON Schema form; the CLI enforces them.
  return toJsonSchema(configSchema, { errorMode: 'ignore' }) as Record<string, unknown>;
}
