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
  /** Keep `raw.slice(start, end)` as it is (`raw` is the carry followed by the write's chunk). */
  keep(raw: string, start: number, end: number): void;
  replace(rule: string): void;
  found(rule: string, start: number, end: number): void;
}

interface CompiledRule {
  readonly rule: Rule;
  readonly index: number;
  readonly pattern: RegExp;
  /** Indexes into `RuleSet.needles`. */
  readonly needles: readonly number[];
  readonly anchorAt: RegExp | undefined;
  readonly back: number;
  readonly tail: RegExp | undefined;
}

/** The rule set compiled once: the distinct needles, and per rule its pattern and anchor check. */
export class RuleSet {
  readonly rules: readonly CompiledRule[];
  readonly needles: readonly string[];
  /** Per needle: the largest `back` of the rules using it (hits further than that past the limit are not needed). */
  readonly needleBack: readonly number[];

  constructor(rules: readonly Rule[] = RULES) {
    const needles: string[] = [];
    const needleIndex = (needle: string): number => {
      const at = needles.indexOf(needle);
      return at === -1 ? needles.push(needle) - 1 : at;
    };
    this.rules = rules.map((rule, index) => ({
      rule,
      index,
      pattern: new RegExp(rule.pattern, 'yd'),
      needles: rule.needles.map(needleIndex),
      anchorAt: rule.anchor === undefined ? undefined : new RegExp(rule.anchor, 'y'),
      back: rule.back ?? 0,
      tail: rule.tail === undefined ? undefined : new RegExp(`[${rule.tail}]*`, 'y'),
    }));
    this.needles = needles;
    this.needleBack = needles.map((_, k) => Math.max(0, ...this.rules.filter((c) => c.needles.includes(k)).map((c) => c.back)));
  }
}

/** Registered literals (already in latin1 form), shared by every stream of one Redactor. */
export interface LiteralSet {
  /** Longest first. */
  readonly literals: readonly string[];
  readonly longest: number;
  readonly index: LiteralIndex;
}

/** Longest first, with the index that finds them. */
export function literalSet(literals: Iterable<string>): LiteralSet {
  const sorted = [...new Set(literals)].sort((a, b) => b.length - a.length);
  return { literals: sorted, longest: sorted[0]?.length ?? 0, index: new LiteralIndex(sorted) };
}

const gramAt = (text: string, at: number): number =>
  (text.charCodeAt(at) | (text.charCodeAt(at + 1) << 8) | (text.charCodeAt(at + 2) << 16) | (text.charCodeAt(at + 3) << 24)) >>> 0;
/** 20 bits: the filter below has 1 M bits (128 KB), so few sampled log grams pass it by chance. */
const gramHash = (gram: number): number => Math.imul(gram, 0x9e3779b1) >>> 12;

/**
 * Finds every registered literal in one pass, however many there are (a PEM key alone gives ~30):
 * every literal has at least `shortest` characters, so an occurrence covers a whole 4-character
 * "gram" at one of the positions 0, step, 2·step, … (step = shortest − 3). Only the grams there are
 * looked up (a 1 M-bit filter, then a map from gram to the literals and offsets holding it), and a
 * candidate is confirmed with `startsWith`.
 */
export class LiteralIndex {
  private readonly step: number;
  private readonly filter = new Uint32Array(1 << 15);
  /** gram → flat pairs (literal index, offset of the gram in the literal). */
  private readonly grams = new Map<number, number[]>();

  constructor(private readonly literals: readonly string[]) {
    const shortest = Math.min(...literals.map((literal) => literal.length));
    this.step = literals.length === 0 ? 0 : shortest - 3;
    literals.forEach((literal, index) => {
      for (let offset = 0; offset + 4 <= literal.length; offset++) {
        const gram = gramAt(literal, offset);
        const hash = gramHash(gram);
        this.filter[hash >>> 5] = (this.filter[hash >>> 5] as number) | (1 << (hash & 31));
        const entry = this.grams.get(gram);
        if (entry === undefined) this.grams.set(gram, [index, offset]);
        else entry.push(index, offset);
      }
    });
  }

  /** Every occurrence of a literal starting before `limit`, leftmost first, longest first. */
  hits(text: string, limit: number): Match[] {
    const hits: Match[] = [];
    const step = this.step;
    if (step === 0) return hits;
    // An occurrence at `start` is seen at the first sample at or after it, and only there.
    const lastSample = Math.min(text.length - 4, limit + step - 1);
    for (let x = 0; x <= lastSample; x += step) {
      const gram = gramAt(text, x);
      const hash = gramHash(gram);
      if (((this.filter[hash >>> 5] as number) & (1 << (hash & 31))) === 0) continue;
      const entry = this.grams.get(gram);
      if (entry === undefined) continue;
      for (let e = 0; e < entry.length; e += 2) {
        const start = x - (entry[e + 1] as number);
        if (start < 0 || start <= x - step || start >= limit) continue;
        const literal = this.literals[entry[e] as number] as string;
        if (!text.startsWith(literal, start)) continue;
        const end = start + literal.length;
        hits.push({ rule: REGISTERED_RULE, start, end, secretStart: start, secretEnd: end, tail: undefined, opensBlock: false });
      }
    }
    if (hits.length > 1) hits.sort((a, b) => a.start - b.start || b.end - a.end);
    return hits;
  }
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
    const values = literalSet.index.hits(text, limit);
    const scanner = new RuleScanner(this.rules, text, limit);
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
          const newline = view.rawOf(m.index);
          sink.keep(raw, newline, newline + 1);
          sink.replace(PRIVATE_KEY_RULE);
          rawDone = newline + 1;
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
        ruleMatch = scanner.next(i);
        rulesExhausted = ruleMatch === undefined;
      }
      while (valueIndex < values.length && (values[valueIndex] as Match).start < i) valueIndex++;
      const value = values[valueIndex];
      let match = ruleMatch;
      if (value !== undefined && (match === undefined || value.start < match.start || (value.start === match.start && value.end > match.end))) {
        match = value;
      }
      if (match === undefined) break;

      sink.keep(raw, rawDone, view.rawOf(match.secretStart));
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
      sink.keep(raw, rawDone, rest);
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
 * Finds rule matches in one write's text. Each distinct needle is searched once with `indexOf`
 * (memchr-fast for a rare first character) and its hits kept; each rule walks the hits of its own
 * needles and keeps its next match, which stays valid until the scan moves past its start.
 */
class RuleScanner {
  /** Per needle: every hit that can start a match before `limit`, in order. */
  private readonly hits: number[][];
  /** Per rule and needle of the rule: the index of the next hit to read. */
  private readonly cursors: number[][];
  /** Per rule: the position its next match was searched from, and that match (undefined: none). */
  private readonly matchFrom: number[];
  private readonly matches: Array<Match | undefined>;
  /** Per rule: patterns were tried (and failed) at every candidate position up to here. */
  private readonly tested: number[];

  constructor(
    private readonly set: RuleSet,
    private readonly text: string,
    private readonly limit: number,
  ) {
    this.hits = set.needles.map((needle, k) => {
      const stop = limit + (set.needleBack[k] as number);
      const found: number[] = [];
      for (let at = text.indexOf(needle); at !== -1 && at < stop; at = text.indexOf(needle, at + 1)) found.push(at);
      return found;
    });
    this.cursors = set.rules.map((rule) => rule.needles.map(() => 0));
    this.matchFrom = set.rules.map(() => Infinity);
    this.matches = set.rules.map(() => undefined);
    this.tested = set.rules.map(() => -1);
  }

  /** The leftmost rule match starting in [from, limit); ties go to the rule declared first. */
  next(from: number): Match | undefined {
    let best: Match | undefined;
    const rules = this.set.rules;
    for (let r = 0; r < rules.length; r++) {
      let match = this.matches[r];
      if ((this.matchFrom[r] as number) > from || (match !== undefined && match.start < from)) {
        match = this.ruleMatch(rules[r] as CompiledRule, from);
        this.matches[r] = match;
        this.matchFrom[r] = from;
      }
      if (match !== undefined && (best === undefined || match.start < best.start)) best = match;
    }
    return best;
  }

  /** The leftmost match of one rule starting in [from, limit). */
  private ruleMatch(compiled: CompiledRule, from: number): Match | undefined {
    const { needles, back, anchorAt, pattern } = compiled;
    const cursors = this.cursors[compiled.index] as number[];
    const text = this.text;
    const limit = this.limit;
    let tested = Math.max(this.tested[compiled.index] as number, from - 1);
    // Every match starting at or after `from` has a needle hit at or after `from`, at most `back` on.
    for (;;) {
      let q = -1;
      let which = -1;
      for (let n = 0; n < needles.length; n++) {
        const hits = this.hits[needles[n] as number] as number[];
        let c = cursors[n] as number;
        while (c < hits.length && (hits[c] as number) < from) c++;
        cursors[n] = c;
        const hit = c < hits.length ? (hits[c] as number) : -1;
        if (hit !== -1 && (q === -1 || hit < q)) {
          q = hit;
          which = n;
        }
      }
      if (q === -1 || q - back >= limit) break;
      if (anchorAt !== undefined) {
        anchorAt.lastIndex = q;
        if (!anchorAt.test(text)) {
          cursors[which] = (cursors[which] as number) + 1;
          continue;
        }
      }
      const last = Math.min(q, limit - 1);
      // The hit stays current until its whole range is tried (a later call resumes after `p`).
      for (let p = Math.max(tested + 1, q - back); p <= last; p++) {
        tested = p;
        pattern.lastIndex = p;
        const m = pattern.exec(text);
        if (m === null) continue;
        this.tested[compiled.index] = p - 1;
        const end = p + m[0].length;
        const secret = m.indices?.groups?.secret;
        return {
          rule: compiled.rule.name,
          start: p,
          end,
          secretStart: secret ? secret[0] : p,
          secretEnd: secret ? secret[1] : end,
          tail: compiled.tail,
          opensBlock: compiled.rule.opensBlock === true,
        };
      }
      cursors[which] = (cursors[which] as number) + 1;
    }
    this.tested[compiled.index] = tested;
    return undefined;
  }
}
