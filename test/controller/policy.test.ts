import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redactor/index.js';
import { addedLinesByFile, evaluatePolicy, issueRef, parseNameStatus, unquoteGitPath, type PolicyInput } from '../../controller/steps/policy.js';

const redactor = new Redactor();
// Built at run time so no scanner flags this file: a GitHub installation token shape.
const fakeToken = `ghs_${'A1b2C3d4E5'.repeat(4).slice(0, 36)}`;

function patchFor(files: Record<string, string[]>): string {
  return Object.entries(files)
    .map(([path, lines]) => [`diff --git a/${path} b/${path}`, '--- a/' + path, `+++ b/${path}`, `@@ -0,0 +1,${lines.length} @@`, ...lines.map((l) => `+${l}`)].join('\n'))
    .join('\n');
}

function input(overrides: Partial<PolicyInput> = {}): PolicyInput {
  return {
    ref: issueRef(7),
    issue: 7,
    fastForward: true,
    files: [{ status: 'M', path: 'src/app.ts' }],
    patch: patchFor({ 'src/app.ts': ['export const answer = 42;'] }),
    limits: { maxDiffBytes: 10_000, maxChangedFiles: 10 },
    scan: (text) => redactor.scan(text),
    ...overrides,
  };
}

describe('policy gate', () => {
  it('allows an ordinary change on the issue branch', () => {
    expect(evaluatePolicy(input())).toEqual({ allowed: true, violations: [] });
  });

  it('refuses any other ref than refs/heads/agentium/issue-<N>', () => {
    for (const ref of ['refs/heads/main', 'refs/heads/agentium/issue-8', 'refs/tags/v1', 'refs/heads/agentium/issue-7x']) {
      const verdict = evaluatePolicy(input({ ref }));
      expect(verdict.allowed).toBe(false);
      expect(verdict.violations.map((v) => v.rule)).toEqual(['branch']);
    }
  });

  it('refuses a result that is not a fast-forward of the remote branch (no force push)', () => {
    expect(evaluatePolicy(input({ fastForward: false })).violations.map((v) => v.rule)).toEqual(['force-push']);
  });

  it('refuses changes under .github/workflows/, naming the file', () => {
    const verdict = evaluatePolicy(
      input({ files: [{ status: 'A', path: '.github/workflows/ci.yml' }, { status: 'D', path: '.github/workflows/old.yml' }, { status: 'M', path: '.github/CODEOWNERS' }] }),
    );
    expect(verdict.violations.map((v) => [v.rule, v.file])).toEqual([
      ['workflows', '.github/workflows/ci.yml'],
      ['workflows', '.github/workflows/old.yml'],
    ]);
  });

  it('enforces maxChangedFiles and maxDiffBytes', () => {
    const files = Array.from({ length: 11 }, (_, i) => ({ status: 'A', path: `f${i}` }));
    expect(evaluatePolicy(input({ files })).violations.map((v) => v.rule)).toEqual(['max-changed-files']);
    const big = patchFor({ 'src/app.ts': ['x'.repeat(20_000)] });
    const verdict = evaluatePolicy(input({ patch: big }));
    expect(verdict.violations.map((v) => v.rule)).toEqual(['max-diff-bytes']);
    expect(verdict.violations[0]?.message).toMatch(/limit is 10000/);
  });

  it('finds a secret in added lines and names file, line and rule — never the value', () => {
    const patch = patchFor({ 'README.md': ['hello'], 'config/.env': ['A=1', `GITHUB_TOKEN=${fakeToken}`] });
    const verdict = evaluatePolicy(input({ patch, files: parseNameStatus('M\0README.md\0A\0config/.env\0') }));
    expect(verdict.allowed).toBe(false);
    const [violation] = verdict.violations;
    expect(violation).toMatchObject({ rule: 'secret', file: 'config/.env', line: 2 });
    expect(violation?.secretRule).toMatch(/\S/);
    expect(JSON.stringify(verdict)).not.toContain(fakeToken);
    expect(JSON.stringify(verdict)).not.toContain(fakeToken.slice(4, 20));
  });

  it('finds a secret in a file name (an empty file adds no line) and names the file masked', () => {
    const path = `notes/${fakeToken}.txt`;
    const verdict = evaluatePolicy(input({ patch: '', files: parseNameStatus(`A\0${path}\0`) }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations).toHaveLength(1);
    // (The long ghs_ form may hold dots, so the rule also takes the extension.)
    expect(verdict.violations[0]).toMatchObject({ rule: 'secret', file: expect.stringMatching(/^notes\/\[REDACTED:github-token\]/), secretRule: 'github-token' });
    expect(JSON.stringify(verdict)).not.toContain(fakeToken.slice(4, 20));
    // The content rule names the file masked too; deleting such a file is allowed.
    const withContent = evaluatePolicy(input({ patch: patchFor({ [path]: [`t=${fakeToken}`] }), files: parseNameStatus(`A\0${path}\0`) }));
    expect(JSON.stringify(withContent)).not.toContain(fakeToken.slice(4, 20));
    expect(evaluatePolicy(input({ patch: '', files: parseNameStatus(`D\0${path}\0`) })).allowed).toBe(true);
  });

  it('does not scan removed lines (removing a secret is allowed)', () => {
    const patch = ['diff --git a/x b/x', '--- a/x', '+++ b/x', '@@ -1 +0,0 @@', `-token=${fakeToken}`].join('\n');
    expect(evaluatePolicy(input({ patch })).allowed).toBe(true);
  });

  it('reads quoted paths and hunk line numbers from a -U0 patch', () => {
    const patch = ['diff --git "a/sp ace\\303\\251" "b/sp ace\\303\\251"', '--- /dev/null', '+++ "b/sp ace\\303\\251"', '@@ -0,0 +5,2 @@', '+one', '+two'].join('\n');
    expect([...addedLinesByFile(patch)]).toEqual([['sp aceé', [{ line: 5, text: 'one' }, { line: 6, text: 'two' }]]]);
    expect(unquoteGitPath('"tab\\there"')).toBe('tab\there');
  });
});
