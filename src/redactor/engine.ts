/**
 * The scanning core shared by `Redactor.redact`, `Redactor.scan` and the stream.
 *
 * Text is handled as latin1 strings of raw bytes, so output is byte-exact (invalid UTF-8, split
 * multi-byte characters) and every pattern is ASCII. Before matching, ANSI escape sequences and
 * `\r` are removed from a "skeleton" view, so colour codes or progress rewrites inside a secret do
 * not hide it; replacements are mapped back to raw offsets (escapes inside a secret go with it).
 *
 * Chunking never changes the result: a position is only decided when no later byte can change
 * the decision — before the last newline of the buffer (no pattern crosses a newline), or more than
 * `headLimit` characters before the end (every pattern and literal is shorter). The undecided tail
 * is carried to the next write, so memory stays bounded on an endless line. Runs that grow without
 * bound (tails, PEM blocks) are explicit states instead of buffered text.
 */
import { PRIVATE_KEY_END, PRIVATE_KEY_RULE, RULES, type Rule } from './rules.js';
import { REGISTERED_RULE } from './values.js';

/** Longer than any rule's bounded match; also the longest carry between writes. */
export const HEAD_LIMIT = 4096;
/** Longest escape sequence recognised; an unfinished one at the end of a write waits for the next. */
const ESCAPE_LIMIT = 600;

/** ANSI escape sequences: CSI (colours, cursor), OSC (titles, links), charset and 2-byte escapes. */
// eslint-disable-next-line no-control-regex
const ESCAPE_AT = /\x1b(?:\[[0-?]{0,32}[ -/]{0,8}[@-~]|\][^\x07\x1b\n]{0,512}(?:\x07|\x1b\\)|[()*+][0-9A-Za-z]|[@-Z\\^_])/y;
const PEM_LINE_OR_END = new RegExp(`\\n|${PRIVATE_KEY_END}`, 'g');

export const marker = (rule: string): string => `[REDACTED:${rule}]`;

/** Receives the redacted output and, for `scan`, where each secret was (absolute raw offsets). */
export interface Sink {
  keep(raw: string): void;
  replace(rule: string): void;
  found(rule: string, start: number, end: number): void;
}

interface CompiledRule {
  readonly rule: Rule;
  readonly index: number;
  readonly pattern: RegExp;
  readonly anchorAt: RegExp;
  readonly back: number;
  readonly tail: RegExp | undefined;
}

/** One prefilter scan and the rules its hits may start. */
interface Scan {
  readonly prefilter: RegExp;
  readonly rules: readonly CompiledRule[];
}

/** The rule set compiled once: a few cheap anchor scans, then the candidate rules at each hit. */
export class RuleSet {
  readonly scans: readonly Scan[];
  readonly maxBack: number;

  constructor(rules: readonly Rule[] = RULES) {
    const compiled = rules.map((rule, index) => ({
      rule,
      index,
      pattern: new RegExp(rule.pattern, 'yd'),
      anchorAt: new RegExp(rule.anchor, 'y'),
      back: rule.back ?? 0,
      tail: rule.tail === undefined ? undefined : new RegExp(`[${rule.tail}]*`, 'y'),
    }));
    const scans: Scan[] = [];
    const united = compiled.filter((c) => c.rule.scanAlone !== true);
    if (united.length > 0) {
      scans.push({ prefilter: new RegExp([...new Set(united.map((c) => c.rule.anchor))].join('|'), 'g'), rules: united });
    }
    for (const anchor of new Set(compiled.filter((c) => c.rule.scanAlone === true).map((c) => c.rule.anchor))) {
      scans.push({ prefilter: new RegExp(anchor, 'g'), rules: compiled.filter((c) => c.rule.anchor === anchor) });
    }
    this.scans = scans;
    this.maxBack = Math.max(0, ...compiled.map((c) => c.back));
  }
}

/** Registered literals (already in latin1 form), shared by every stream of one Redactor. */
export interface LiteralSet {
  readonly literals: readonly string[];
  readonly longest: number;
}

interface Match {
  rule: string;
  start: number;
  end: number;
  secretStart: number;
  secretEnd: number;
  tail: RegExp | undefined;
  opensBlock: boolean;
}

/** Skeleton of a raw buffer (escapes and `\r` removed) with the map back to raw offsets. */
class Skeleton {
  readonly text: string;
  private readonly skelStarts: number[] = [];
  private readonly rawStarts: number[] = [];

  constructor(readonly raw: string) {
    if (raw.indexOf('\x1b') === -1 && raw.indexOf('\r') === -1) {
      this.text = raw;
      return;
    }
    // indexOf finds the two lead characters at memchr speed; a sticky regex reads each escape.
    const parts: string[] = [];
    let rawPos = 0;
    let skelPos = 0;
    let cr = raw.indexOf('\r');
    let esc = raw.indexOf('\x1b');
    while (cr !== -1 || esc !== -1) {
      let at: number;
      let length = 1;
      if (esc === -1 || (cr !== -1 && cr < esc)) {
        at = cr;
        cr = raw.indexOf('\r', cr + 1);
      } else {
        at = esc;
        ESCAPE_AT.lastIndex = esc;
        if (ESCAPE_AT.test(raw)) length = ESCAPE_AT.lastIndex - esc;
        else length = 0;
        esc = raw.indexOf('\x1b', esc + 1);
        if (length === 0) continue; // a lone ESC is ordinary text
        if (cr !== -1 && cr < at + length) cr = raw.indexOf('\r', at + length);
        if (esc !== -1 && esc < at + length) esc = raw.indexOf('\x1b', at + length);
      }
      if (at > rawPos) {
        this.segment(parts, rawPos, at, skelPos);
        skelPos += at - rawPos;
      }
      rawPos = at + length;
    }
    if (raw.length > rawPos) this.segment(parts, rawPos, raw.length, skelPos);
    this.text = parts.join('');
  }

  private segment(parts: string[], from: number, to: number, skelPos: number): void {
    parts.push(this.raw.slice(from, to));
    this.skelStarts.push(skelPos);
    this.rawStarts.push(from);
  }

  /** Raw offset of skeleton character `i`; the raw length when `i` is past the end. */
  rawOf(i: number): number {
    if (i >= this.text.length) return this.raw.length;
    const starts = this.skelStarts;
    if (starts.length === 0) return i;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= i) lo = mid;
      else hi = mid - 1;
    }
    return (this.rawStarts[lo] as number) + i - (starts[lo] as number);
  }

  /** Raw offset just after skeleton character `j - 1` (escapes that follow it are not included). */
  rawEnd(j: number): number {
    return j === 0 ? 0 : this.rawOf(j - 1) + 1;
  }
}

type Mode = { kind: 'text' } | { kind: 'tail'; rule: string; tail: RegExp; start: number } | { kind: 'block'; start: number };

/**
 * One stream's carry state. `write(chunk, false)` for each chunk and a final `write('', true)` give
 * exactly the output of one `write(whole, true)`.
 */
export class RedactionState {
  private pending = '';
  /** Absolute raw offset of `pending[0]`. */
  private base = 0;
  private mode: Mode = { kind: 'text' };

  constructor(
    private readonly rules: RuleSet,
    private readonly literals: () => LiteralSet,
  ) {}

  /** Bytes held back for the next write (the bounded carry). */
  get carried(): number {
    return this.pending.length;
  }

  write(chunk: string, final: boolean, sink: Sink): void {
    let raw = this.pending + chunk;
    let held = '';
    if (!final) {
      const escape = raw.lastIndexOf('\x1b');
      if (escape !== -1 && raw.length - escape < ESCAPE_LIMIT) {
        ESCAPE_AT.lastIndex = escape;
        if (!ESCAPE_AT.test(raw)) {
          held = raw.slice(escape);
          raw = raw.slice(0, escape);
        }
      }
    }
    const view = new Skeleton(raw);
    const text = view.text;
    const n = text.length;
    const literalSet = this.literals();
    const headLimit = Math.max(HEAD_LIMIT, literalSet.longest + 1);
    const limit = final ? n : Math.max(text.lastIndexOf('\n') + 1, n - headLimit);
    const values = literalHits(text, literalSet.literals, limit);
    let valueIndex = 0;
    let ruleMatch: Match | undefined;
    let rulesExhausted = false;
    let rawDone = 0;
    let i = 0;
    const base = this.base;

    for (;;) {
      const mode = this.mode;
      if (mode.kind === 'tail') {
        mode.tail.lastIndex = i;
        mode.tail.test(text);
        const j = mode.tail.lastIndex;
        if (j > i) rawDone = view.rawEnd(j);
        i = j;
        if (j === n && !final) break;
        sink.found(mode.rule, mode.start, base + rawDone);
        this.mode = { kind: 'text' };
        continue;
      }
      if (mode.kind === 'block') {
        PEM_LINE_OR_END.lastIndex = i;
        const m = PEM_LINE_OR_END.exec(text);
        if (m !== null && m[0] === '\n') {
          sink.keep('\n');
          sink.replace(PRIVATE_KEY_RULE);
          rawDone = view.rawOf(m.index) + 1;
          i = m.index + 1;
          continue;
        }
        if (m !== null && m.index < limit) {
          i = m.index + m[0].length;
          rawDone = view.rawEnd(i);
          sink.found(PRIVATE_KEY_RULE, mode.start, base + rawDone);
          this.mode = { kind: 'text' };
          continue;
        }
        i = Math.max(i, limit);
        rawDone = view.rawOf(i);
        break;
      }

      // Text mode: the leftmost of the next rule match and the next registered-value hit.
      if (!rulesExhausted && (ruleMatch === undefined || ruleMatch.start < i)) {
        ruleMatch = nextRuleMatch(this.rules, text, i, limit);
        rulesExhausted = ruleMatch === undefined;
      }
      while (valueIndex < values.length && (values[valueIndex] as Match).start < i) valueIndex++;
      const value = values[valueIndex];
      let match = ruleMatch;
      if (value !== undefined && (match === undefined || value.start < match.start || (value.start === match.start && value.end > match.end))) {
        match = value;
      }
      if (match === undefined) break;

      sink.keep(raw.slice(rawDone, view.rawOf(match.secretStart)));
      sink.replace(match.rule);
      rawDone = view.rawEnd(match.secretEnd);
      i = match.end;
      const start = base + view.rawOf(match.secretStart);
      if (match.opensBlock) {
        this.mode = { kind: 'block', start };
      } else if (match.tail !== undefined && match.secretEnd === match.end) {
        this.mode = { kind: 'tail', rule: match.rule, tail: match.tail, start };
      } else {
        sink.found(match.rule, start, base + rawDone);
      }
    }

    let rest: number;
    if (this.mode.kind === 'text') {
      const stop = Math.max(i, limit);
      rest = view.rawOf(stop);
      sink.keep(raw.slice(rawDone, rest));
    } else {
      rest = rawDone;
    }
    if (final) {
      if (this.mode.kind === 'tail') sink.found(this.mode.rule, this.mode.start, base + rawDone);
      if (this.mode.kind === 'block') sink.found(PRIVATE_KEY_RULE, this.mode.start, base + raw.length);
      this.mode = { kind: 'text' };
      rest = raw.length;
    }
    this.pending = raw.slice(rest) + held;
    this.base = base + rest;
  }
}

/**
 * The leftmost rule match starting in [from, limit): walks the anchor hits of every scan in text
 * order; a hit may start a match up to `back` characters earlier, so hits are read until none can
 * start before the best match so far. Ties go to the rule declared first.
 */
function nextRuleMatch(rules: RuleSet, text: string, from: number, limit: number): Match | undefined {
  const scans = rules.scans;
  const next: number[] = scans.map((scan) => nextHit(scan.prefilter, text, from));
  let best: Match | undefined;
  let bestRule = 0;
  for (;;) {
    let which = -1;
    let q = Infinity;
    for (let k = 0; k < next.length; k++) {
      const at = next[k] as number;
      if (at < q) {
        q = at;
        which = k;
      }
    }
    if (which === -1 || q >= limit + rules.maxBack) break;
    if (best !== undefined && q > best.start + rules.maxBack) break;
    const scan = scans[which] as Scan;
    for (const compiled of scan.rules) {
      compiled.anchorAt.lastIndex = q;
      if (!compiled.anchorAt.test(text)) continue;
      const last = Math.min(q, limit - 1, best === undefined ? q : best.start);
      for (let p = Math.max(from, q - compiled.back); p <= last; p++) {
        compiled.pattern.lastIndex = p;
        const m = compiled.pattern.exec(text);
        if (m === null) continue;
        if (best === undefined || p < best.start || (p === best.start && compiled.index < bestRule)) {
          const end = p + m[0].length;
          const secret = m.indices?.groups?.secret;
          best = {
            rule: compiled.rule.name,
            start: p,
            end,
            secretStart: secret ? secret[0] : p,
            secretEnd: secret ? secret[1] : end,
            tail: compiled.tail,
            opensBlock: compiled.rule.opensBlock === true,
          };
          bestRule = compiled.index;
        }
        break;
      }
    }
    next[which] = nextHit(scan.prefilter, text, q + 1);
  }
  return best;
}

function nextHit(prefilter: RegExp, text: string, from: number): number {
  prefilter.lastIndex = from;
  const hit = prefilter.exec(text);
  return hit === null ? Infinity : hit.index;
}

/** Every occurrence of a registered literal starting before `limit`, leftmost first, longest first. */
function literalHits(text: string, literals: readonly string[], limit: number): Match[] {
  const hits: Match[] = [];
  for (const literal of literals) {
    for (let at = text.indexOf(literal); at !== -1 && at < limit; at = text.indexOf(literal, at + 1)) {
      const end = at + literal.length;
      hits.push({ rule: REGISTERED_RULE, start: at, end, secretStart: at, secretEnd: end, tail: undefined, opensBlock: false });
    }
  }
  if (hits.length > 1) hits.sort((a, b) => a.start - b.start || b.end - a.end);
  return hits;
}
