#!/usr/bin/env node
/**
 * Writes test/fixtures/github-openapi.json: the operations Agentium calls, cut out of GitHub's
 * published OpenAPI description (npm package @octokit/openapi), with every component they
 * reference and nothing else. The fake GitHub validates requests and responses against it.
 *
 * The package is ~385 MB, so it is not a project dependency. Regenerate with:
 *   mkdir -p /tmp/openapi && (cd /tmp/openapi && npm install --no-save @octokit/openapi)
 *   node scripts/extract-github-openapi.js \
 *     /tmp/openapi/node_modules/@octokit/openapi/generated/api.github.com.json
 * Only that one JSON file is read (never the package root).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Every GitHub REST operation src/github/ uses. Adding a call there means adding it here. */
export const OPERATIONS = [
  ['get', '/repos/{owner}/{repo}/installation'],
  ['post', '/app/installations/{installation_id}/access_tokens'],
  ['delete', '/installation/token'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['patch', '/repos/{owner}/{repo}/issues/comments/{comment_id}'],
  ['get', '/repos/{owner}/{repo}/pulls'],
  ['post', '/repos/{owner}/{repo}/pulls'],
  ['patch', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  // Token mode: the login we post as, so our status comment is found again (src/github/issues.ts).
  ['get', '/user'],
];

const source = process.argv[2] ?? '/tmp/openapi/node_modules/@octokit/openapi/generated/api.github.com.json';
const target = process.argv[3] ?? new URL('../test/fixtures/github-openapi.json', import.meta.url);
const description = JSON.parse(readFileSync(source, 'utf8'));

/** Media-type examples are large and never used for validation: drop them to keep the fixture reviewable. */
function withoutMediaExamples(node) {
  if (Array.isArray(node)) return node.map(withoutMediaExamples);
  if (!node || typeof node !== 'object') return node;
  const isMediaType = 'schema' in node && 'examples' in node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => !(isMediaType && key === 'examples'))
      .map(([key, value]) => [key, withoutMediaExamples(value)]),
  );
}

const paths = {};
for (const [method, path] of OPERATIONS) {
  const operation = description.paths[path]?.[method];
  if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in ${source}`);
  paths[path] = { ...paths[path], [method]: withoutMediaExamples(operation) };
}

/** Copy each `#/components/<kind>/<name>` reachable from the chosen operations. */
const components = {};
const pending = [paths];
while (pending.length > 0) {
  const node = pending.pop();
  if (Array.isArray(node)) {
    pending.push(...node);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        const [, kind, name] = /^#\/components\/([^/]+)\/(.+)$/.exec(value) ?? [];
        if (!kind || !name) throw new Error(`unexpected reference ${value}`);
        components[kind] ??= {};
        if (!(name in components[kind])) {
          const referenced = description.components[kind]?.[name];
          if (referenced === undefined) throw new Error(`dangling reference ${value}`);
          components[kind][name] = referenced;
          pending.push(referenced);
        }
      } else {
        pending.push(value);
      }
    }
  }
}

const sorted = (object) => Object.fromEntries(Object.entries(object).sort(([a], [b]) => a.localeCompare(b)));
const extract = {
  openapi: description.openapi,
  info: {
    ...description.info,
    'x-extracted-by': 'scripts/extract-github-openapi.js',
    'x-source-package': '@octokit/openapi generated/api.github.com.json',
  },
  paths: sorted(paths),
  components: sorted(Object.fromEntries(Object.entries(components).map(([kind, named]) => [kind, sorted(named)]))),
};
writeFileSync(target, `${JSON.stringify(extract, null, 2)}\n`);
process.stderr.write(
  `wrote ${OPERATIONS.length} operations, ${Object.values(components).reduce((n, c) => n + Object.keys(c).length, 0)} components\n`,
);
