/**
 * The policy gate (DESIGN §2 step 6; SECURITY-CHECKLIST 13, 14): decides, before anything is
 * pushed, whether the agent's result may leave the machine. Pure over the git diff so every rule is
 * unit-testable; controller/steps/changes.ts produces the input from real git.
 *
 * What is judged is exactly what would be pushed: the controller pushes ONE commit whose parent is
 * the base (the remote issue branch tip, or the default branch) and whose tree is the agent's
 * final workspace. The agent's own local commits are not pushed, so a secret it committed and later
 * deleted never leaves; the diff base..candidate covers every byte that does.
 *
 * A refusal names the file and the rule, never the matched text.
 */
export interface SecretFinding {
  rule: string;
  start: number;
  end: number;
}

export interface ChangedFile {
  /** git's name-status letter: A, M, D, T (type change), ... */
  status: string;
  path: string;
}

export interface PolicyInput {
  /** The ref the controller is about to push. */
  ref: string;
  issue: number;
  /** True when the candidate descends from the remote issue branch tip (or that branch does not exist yet). */
  fastForward: boolean;
  files: ChangedFile[];
  /** `git diff -U0 --text` between base and candidate. */
  patch: string;
  limits: { maxDiffBytes: number; maxChangedFiles: number };
  /** The redactor's rule engine (`Redactor.scan`). */
  scan: (text: string) => SecretFinding[];
}

export type PolicyRule = 'branch' | 'force-push' | 'workflows' | 'max-diff-bytes' | 'max-changed-files' | 'secret';

export interface PolicyViolation {
  rule: PolicyRule;
  /** The file concerned, when there is one. */
  file?: string;
  /** The redactor rule that matched (rule `secret`), e.g. `github-token`. */
  secretRule?: string;
  line?: number;
  /** Plain explanation, built only from paths, numbers and rule names. */
  message: string;
}

export interface PolicyVerdict {
  allowed: boolean;
  violations: PolicyViolation[];
}

export const workflowsDir = '.github/workflows/';

export function issueRef(issue: number): string {
  return `refs/heads/agentium/issue-${issue}`;
}

/** Paths in a `+++ b/…` line: plain, or C-quoted by git when they hold special bytes. */
export function unquoteGitPath(raw: string): string {
  if (!raw.startsWith('"')) return raw;
  const bytes: number[] = [];
  const escapes: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 1; i < raw.length - 1; i++) {
    const char = raw[i] as string;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = raw[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Added lines per file (new path) with their line numbers in the new file, from a `-U0` patch. */
export function addedLinesByFile(patch: string): Map<string, Array<{ line: number; text: string }>> {
  const result = new Map<string, Array<{ line: number; text: string }>>();
  let current: Array<{ line: number; text: string }> | undefined;
  let lineNumber = 0;
  for (const line of patch.split('\n')) {
    if (line.startsWith('diff --git ')) {
      current = undefined;
    } else if (line.startsWith('+++ ')) {
      const target = line.slice(4);
      if (target === '/dev/null') {
        current = undefined;
        continue;
      }
      const path = unquoteGitPath(target).replace(/^b\//, '');
      current = result.get(path) ?? [];
      result.set(path, current);
    } else if (line.startsWith('@@ ')) {
      const match = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
      lineNumber = match ? Number(match[1]) : 0;
    } else if (line.startsWith('+') && current) {
      current.push({ line: lineNumber, text: line.slice(1) });
      lineNumber += 1;
    }
  }
  return result;
}

/** `git diff --name-status -z --no-renames` output → changed files. */
export function parseNameStatus(output: string): ChangedFile[] {
  const fields = output.split('\0');
  const files: ChangedFile[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const status = fields[i] as string;
    if (status === '') break;
    files.push({ status: status.slice(0, 1), path: fields[i + 1] as string });
  }
  return files;
}

export function evaluatePolicy(input: PolicyInput): PolicyVerdict {
  const violations: PolicyViolation[] = [];
  const expectedRef = issueRef(input.issue);
  if (input.ref !== expectedRef) {
    violations.push({ rule: 'branch', message: `only ${expectedRef} may be pushed, not ${input.ref}` });
  }
  if (!input.fastForward) {
    violations.push({
      rule: 'force-push',
      message: 'the result does not extend the remote issue branch; a force push is never made',
    });
  }
  // Reports name files, so a file name that carries a secret is shown masked.
  const shown = (path: string) => maskFindings(path, input.scan(path));
  for (const file of input.files) {
    if (file.path.startsWith(workflowsDir)) {
      violations.push({ rule: 'workflows', file: shown(file.path), message: `changes under ${workflowsDir} are not allowed (${shown(file.path)})` });
    }
  }
  if (input.files.length > input.limits.maxChangedFiles) {
    violations.push({
      rule: 'max-changed-files',
      message: `${input.files.length} files changed; the limit is ${input.limits.maxChangedFiles} (policy.maxChangedFiles)`,
    });
  }
  const diffBytes = Buffer.byteLength(input.patch, 'utf8');
  if (diffBytes > input.limits.maxDiffBytes) {
    violations.push({
      rule: 'max-diff-bytes',
      message: `the diff is ${diffBytes} bytes; the limit is ${input.limits.maxDiffBytes} (policy.maxDiffBytes)`,
    });
  }
  // A file name is pushed too: an empty file named after a token adds no line, yet leaks it.
  for (const file of input.files) {
    if (file.status === 'D') continue;
    const findings = input.scan(file.path);
    for (const secretRule of new Set(findings.map((finding) => finding.rule))) {
      const name = shown(file.path);
      violations.push({ rule: 'secret', file: name, secretRule, message: `the file name ${name} contains what looks like a secret (rule ${secretRule})` });
    }
  }
  for (const [path, lines] of addedLinesByFile(input.patch)) {
    const file = shown(path);
    // Scan the added lines of a file as one text so multi-line secrets (PEM blocks) are seen whole.
    const text = lines.map((entry) => entry.text).join('\n');
    const starts: number[] = [];
    let offset = 0;
    for (const entry of lines) {
      starts.push(offset);
      offset += entry.text.length + 1;
    }
    const seen = new Set<string>();
    for (const finding of input.scan(text)) {
      let index = 0;
      while (index + 1 < starts.length && (starts[index + 1] as number) <= finding.start) index++;
      const line = lines[index]?.line;
      const key = `${finding.rule}:${line}`;
      if (seen.has(key)) continue;
      seen.add(key);
      violations.push({
        rule: 'secret',
        file,
        secretRule: finding.rule,
        ...(line === undefined ? {} : { line }),
        message: `${file}${line === undefined ? '' : `:${line}`} contains what looks like a secret (rule ${finding.rule})`,
      });
    }
  }
  return { allowed: violations.length === 0, violations };
}

/** The text with each finding replaced by `[REDACTED:<rule>]`, so a report can name the file. */
function maskFindings(text: string, findings: SecretFinding[]): string {
  let masked = '';
  let at = 0;
  for (const finding of [...findings].sort((a, b) => a.start - b.start)) {
    if (finding.start < at) continue;
    masked += `${text.slice(at, finding.start)}[REDACTED:${finding.rule}]`;
    at = finding.end;
  }
  return masked + text.slice(at);
}
