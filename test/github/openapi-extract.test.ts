import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertNullable, GitHubOpenApi } from '../fakes/github/openapi.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/github-openapi.json', import.meta.url), 'utf8')) as {
  info: Record<string, string>;
  paths: Record<string, Record<string, { operationId: string }>>;
};

describe('the committed OpenAPI extract', () => {
  it('holds exactly the operations src/github/ calls', () => {
    const operations = Object.values(fixture.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId));
    expect(operations.sort()).toEqual([
      'apps/create-installation-access-token',
      'apps/get-repo-installation',
      'apps/revoke-installation-access-token',
      'issues/create-comment',
      'issues/get',
      'issues/list-comments',
      'issues/update-comment',
      'pulls/create',
      'pulls/list',
      'pulls/update',
      'users/get-authenticated',
    ]);
    expect(fixture.info['x-extracted-by']).toBe('scripts/extract-github-openapi.js');
  });
});

describe('validation', () => {
  const spec = new GitHubOpenApi();

  it('converts OpenAPI 3.0 nullable into JSON Schema', () => {
    expect(convertNullable({ type: 'string', nullable: true })).toEqual({ type: ['string', 'null'] });
    expect(convertNullable({ type: 'string', enum: ['a'], nullable: true })).toEqual({ type: ['string', 'null'], enum: ['a', null] });
    expect(convertNullable({ allOf: [{ $ref: '#/x' }], nullable: true, description: 'd' })).toEqual({
      description: 'd',
      anyOf: [{ allOf: [{ $ref: '#/x' }] }, { type: 'null' }],
    });
  });

  it('rejects a response missing required fields (so the fake cannot drift from GitHub)', () => {
    const op = spec.match('GET', '/repos/acme/widgets/issues/1');
    expect(op).toMatchObject({ operationId: 'issues/get', params: { owner: 'acme', repo: 'widgets', issue_number: '1' } });
    const problems = spec.validateResponse(op!, 200, { id: 1, number: 1, title: 'x', state: 'open' });
    expect(problems.join('\n')).toMatch(/must have required property '(assignee|closed_at|comments|user|url)'/);
  });

  it('rejects an undocumented success status and checks error bodies', () => {
    const op = spec.match('DELETE', '/installation/token')!;
    expect(spec.validateResponse(op, 204, undefined)).toEqual([]);
    expect(spec.validateResponse(op, 200, {})).toEqual(['response status 200 is not documented for apps/revoke-installation-access-token']);
    expect(spec.validateResponse(op, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com' })).toEqual([]);
    expect(spec.validateResponse(op, 401, { message: 401 }).join()).toMatch(/\/message must be string/);
  });

  it('checks query parameters', () => {
    const op = spec.match('GET', '/repos/acme/widgets/pulls')!;
    expect(spec.validateRequest(op, new URLSearchParams({ state: 'open', per_page: '100' }), undefined)).toEqual([]);
    expect(spec.validateRequest(op, new URLSearchParams({ state: 'opened' }), undefined)[0]).toMatch(/query state/);
  });
});
