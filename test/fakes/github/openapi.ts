/**
 * Validates the fake's traffic against the committed extract of GitHub's OpenAPI description
 * (test/fixtures/github-openapi.json, made by scripts/extract-github-openapi.js). OpenAPI 3.0's
 * `nullable` is not JSON Schema: it is converted to `type: [..., "null"]` / `anyOf` first, since
 * Ajv rejects `nullable` without `type`.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

type Json = Record<string, unknown>;

export interface Operation {
  operationId: string;
  method: string;
  /** e.g. /repos/{owner}/{repo}/pulls */
  template: string;
  params: Record<string, string>;
}

const fixture = new URL('../../fixtures/github-openapi.json', import.meta.url);

/** OpenAPI 3.0 `nullable: true` → JSON Schema, recursively. */
export function convertNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convertNullable);
  if (!node || typeof node !== 'object') return node;
  const converted: Json = {};
  for (const [key, value] of Object.entries(node)) converted[key] = convertNullable(value);
  if (converted.nullable !== true) return converted;
  delete converted.nullable;
  if (typeof converted.type === 'string') {
    converted.type = [converted.type, 'null'];
    if (Array.isArray(converted.enum) && !converted.enum.includes(null)) converted.enum = [...converted.enum, null];
    return converted;
  }
  const { description, title, ...rest } = converted;
  return { ...(description ? { description } : {}), ...(title ? { title } : {}), anyOf: [rest, { type: 'null' }] };
}

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

export class GitHubOpenApi {
  private readonly ajv: Ajv;
  private readonly doc: Json;
  private readonly routes: Array<{ method: string; template: string; pattern: RegExp; names: string[]; operationId: string }> = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.doc = convertNullable(JSON.parse(readFileSync(fixture, 'utf8'))) as Json;
    this.ajv = new Ajv({ strict: false, allErrors: true });
    // ajv-formats is CommonJS; under NodeNext its default export is the module object.
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => void;
    addFormats(this.ajv);
    for (const format of collectFormats(this.doc)) {
      if (!this.ajv.formats[format]) this.ajv.addFormat(format, true);
    }
    this.ajv.addSchema(this.doc, 'github');
    for (const [template, methods] of Object.entries(this.doc.paths as Record<string, Record<string, Json>>)) {
      const names: string[] = [];
      const pattern = new RegExp(
        `^${template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
          names.push(name);
          return '([^/]+)';
        })}$`,
      );
      for (const [method, operation] of Object.entries(methods)) {
        this.routes.push({ method: method.toUpperCase(), template, pattern, names, operationId: operation.operationId as string });
      }
    }
  }

  /** The documented operation for a request, or undefined when we never call it. */
  match(method: string, pathname: string): Operation | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(pathname);
      if (!found) continue;
      const params = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(found[i + 1] ?? '')]));
      return { operationId: route.operationId, method, template: route.template, params };
    }
    return undefined;
  }

  private operation(op: Operation): Json {
    return (this.doc.paths as Record<string, Record<string, Json>>)[op.template]?.[op.method.toLowerCase()] as Json;
  }

  private validator(pointer: string): ValidateFunction {
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `github#${pointer}` });
      this.compiled.set(pointer, validate);
    }
    return validate;
  }

  private errors(pointer: string, value: unknown): string[] {
    const validate = this.validator(pointer);
    if (validate(value)) return [];
    return (validate.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }

  /** Problems with a request's query and JSON body; empty when it matches the description. */
  validateRequest(op: Operation, query: URLSearchParams, body: unknown): string[] {
    const operation = this.operation(op);
    const base = `/paths/${escapePointer(op.template)}/${op.method.toLowerCase()}`;
    const problems: string[] = [];
    const parameters = (operation.parameters as Json[] | undefined) ?? [];
    parameters.forEach((parameter, index) => {
      const resolved = this.resolve(parameter);
      if (resolved.in !== 'query' || !query.has(resolved.name as string)) return;
      const raw = query.get(resolved.name as string) as string;
      const schema = resolved.schema as Json | undefined;
      const value = schema?.type === 'integer' ? Number(raw) : raw;
      const pointer = parameter.$ref ? `${(parameter.$ref as string).slice(1)}/schema` : `${base}/parameters/${index}/schema`;
      problems.push(...this.errors(pointer, value).map((e) => `query ${resolved.name as string}: ${e}`));
    });
    const requestBody = operation.requestBody as Json | undefined;
    if (!requestBody) {
      if (body !== undefined) problems.push('request has a body but the operation takes none');
      return problems;
    }
    if (body === undefined) {
      if (requestBody.required) problems.push('request body is required');
      return problems;
    }
    problems.push(...this.errors(`${base}/requestBody/content/application~1json/schema`, body).map((e) => `body ${e}`));
    return problems;
  }

  /** Problems with a response the fake is about to send. Error statuses GitHub may send anywhere
   *  (401, 403, 404, 422, 5xx) fall back to `basic-error` when the operation does not list them. */
  validateResponse(op: Operation, status: number, body: unknown): string[] {
    const operation = this.operation(op);
    const base = `/paths/${escapePointer(op.template)}/${op.method.toLowerCase()}/responses/${status}`;
    const response = (operation.responses as Record<string, Json>)[String(status)];
    if (!response) {
      if (status >= 400) return this.errors('/components/schemas/basic-error', body).map((e) => `response ${status} ${e}`);
      return [`response status ${status} is not documented for ${op.operationId}`];
    }
    const pointer = response.$ref ? (response.$ref as string).slice(1) : base;
    const content = (this.resolve(response).content as Record<string, Json> | undefined)?.['application/json'];
    if (!content) return body === undefined ? [] : [`response ${status} of ${op.operationId} must have no body`];
    return this.errors(`${pointer}/content/application~1json/schema`, body).map((e) => `response ${status} ${e}`);
  }

  private resolve(node: Json): Json {
    if (typeof node.$ref !== 'string') return node;
    return node.$ref
      .slice(2)
      .split('/')
      .reduce<Json>((at, segment) => at[segment.replace(/~1/g, '/').replace(/~0/g, '~')] as Json, this.doc);
  }
}

function collectFormats(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => collectFormats(n, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'format' && typeof value === 'string') found.add(value);
      else collectFormats(value, found);
    }
  }
  return found;
}
