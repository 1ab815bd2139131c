/**
 * Known secret formats, written for log text rather than source files: no rule needs a delimiter
 * after the secret (`?key=AIza…&a=1`, `foo(sk_live_…)` are caught), and formats that grow (GitHub's
 * long `ghs_<id>_<jwt-like>` tokens, JWTs, header values) are swallowed to the end of their run by a
 * `tail` class, which the stream carries across writes with bounded memory.
 *
 * Constraints the engine relies on (src/redactor/engine.ts):
 * - one of `needles` occurs in every match of `pattern`, at most `back` characters after its start;
 *   needles are found with `indexOf` (memchr-fast when their first character is rare in logs, so
 *   they start with one: `yJ` rather than `eyJ`, `zation` rather than `authorization`) and are at
 *   most 6 characters (longer ones make V8 switch to a slower search);
 * - `anchor`, when given, matches at that needle occurrence in every match (a cheap check before
 *   the pattern is tried), and its look-behind (if any) stays inside the match;
 * - `pattern` has a bounded length (< HEAD_LIMIT) and never matches a newline, so a match is
 *   decided by a bounded look-ahead or by the end of its line;
 * - no look-behind in `pattern`: the stream keeps no left context;
 * - only bounded quantifiers before a literal, so a failed attempt costs at most its bound
 *   (no super-linear backtracking).
 */
export interface Rule {
  /** Shown in the replacement `[REDACTED:<name>]` and in scan findings; never the value. */
  readonly name: string;
  /** Literals, one of which occurs in every match (see above). */
  readonly needles: readonly string[];
  /** Regex source that matches at the needle's position in every match (see above). */
  readonly anchor?: string;
  /** How far before the needle the match may start (default 0). */
  readonly back?: number;
  /** Regex source of the whole bounded match; `(?<secret>…)` limits what is replaced. */
  readonly pattern: string;
  /** Character-class body of characters that continue the secret after `pattern`. */
  readonly tail?: string;
  /** The match opens a block (PEM) that stays redacted until its END line. */
  readonly opensBlock?: true;
}

/** Separator between a key name and its value in JSON, escaped JSON, YAML, `.env`, INI and Python. */
const SEP = String.raw`(?:\\?["'])?[ \t]{0,8}[:=][ \t]{0,8}(?:\\?["'])?`;
/** Same, but the `:`/`=` may be missing (`--flag value`, `Key value`). */
const SEP_OPTIONAL = String.raw`(?:\\?["'])?[ \t]{0,8}[:=]?[ \t]{0,8}(?:\\?["'])?`;
/** A header value runs to the end of the line or to the quote that closes it. */
const HEADER_VALUE_TAIL = String.raw`^\n'"\x60`;
const HEADER_VALUE = String.raw`(?:\[)?(?:[A-Za-z][A-Za-z0-9_-]{0,30} +)?(?<secret>[^\n'"\x60 ])`;

export const PRIVATE_KEY_RULE = 'private-key';
/** The END line that closes a block opened by a `opensBlock` rule. */
export const PRIVATE_KEY_END = String.raw`-----END (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?-----`;

export const RULES: readonly Rule[] = [
  // Old 36-char tokens and the long `ghs_<digits>_<jwt-like>` installation tokens (`.`, `_`, `-`).
  { name: 'github-token', needles: ['gh'], anchor: 'gh[pousr]_', pattern: 'gh[pousr]_[A-Za-z0-9_]{16}', tail: 'A-Za-z0-9_.\\-' },
  { name: 'github-token', needles: ['_pat_'], anchor: '_pat_(?<=github_pat_)', back: 6, pattern: 'github_pat_[A-Za-z0-9_]{22}', tail: 'A-Za-z0-9_' },
  { name: 'aws-access-key-id', needles: ['IA', 'ACCA', 'A3T'], anchor: 'IA(?<=A[KSB]IA)|ACCA|A3T', back: 2, pattern: '(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}' },
  {
    name: 'aws-secret-access-key',
    needles: ['key', 'Key', 'KEY'],
    anchor: '[Kk]ey(?<=ccess_?[Kk]ey|ccess-key)|KEY(?<=CCESS_KEY)',
    back: 14,
    pattern: `(?:[Ss]ecret_?[Aa]ccess_?[Kk]ey|SECRET_ACCESS_KEY|secret-access-key)${SEP_OPTIONAL}(?<secret>[A-Za-z0-9/+]{40})`,
    tail: 'A-Za-z0-9/+=',
  },
  {
    name: 'aws-session-token',
    needles: ['ken', 'KEN'],
    anchor: 'ken(?<=ession_?[Tt]oken|ession-token)|KEN(?<=ESSION_TOKEN)',
    back: 10,
    pattern: `(?:[Ss]ession_?[Tt]oken|SESSION_TOKEN|session-token)${SEP_OPTIONAL}(?<secret>[A-Za-z0-9/+=]{100})`,
    tail: 'A-Za-z0-9/+=',
  },
  { name: 'gcp-api-key', needles: ['AIza'], pattern: 'AIza[A-Za-z0-9_-]{35}', tail: 'A-Za-z0-9_\\-' },
  {
    name: 'gcp-service-account',
    needles: ['key'],
    anchor: 'key_id(?<=private_key_id)',
    back: 8,
    pattern: `private_key_id${SEP}(?<secret>[0-9a-fA-F]{40})`,
    tail: '0-9a-fA-F',
  },
  {
    name: PRIVATE_KEY_RULE,
    needles: ['BEGIN '],
    back: 5,
    pattern: '-----BEGIN (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?-----',
    opensBlock: true,
  },
  {
    name: 'jwt',
    needles: ['yJ'],
    anchor: 'yJ(?<=eyJ)',
    back: 1,
    pattern: 'eyJ[A-Za-z0-9_-]{8,1024}\\.[A-Za-z0-9_-]{8}',
    tail: 'A-Za-z0-9_.\\-',
  },
  { name: 'slack-token', needles: ['xox'], anchor: 'xox[abposre]-', pattern: 'xox[abposre]-[A-Za-z0-9-]{10}', tail: 'A-Za-z0-9\\-' },
  { name: 'slack-token', needles: ['xapp-'], pattern: 'xapp-[0-9]-[A-Za-z0-9-]{10}', tail: 'A-Za-z0-9\\-' },
  {
    name: 'slack-webhook',
    needles: ['k.com/'],
    anchor: 'k\\.com/(?<=hooks\\.slack\\.com/)',
    back: 10,
    pattern: 'hooks\\.slack\\.com/(?:services|workflows|triggers)/(?<secret>[A-Za-z0-9_/-]{8})',
    tail: 'A-Za-z0-9_/\\-',
  },
  { name: 'stripe-key', needles: ['k_'], anchor: 'k_(?:live|test)_(?<=[sr]k_(?:live|test)_)', back: 1, pattern: '[sr]k_(?:live|test)_[A-Za-z0-9]{10}', tail: 'A-Za-z0-9' },
  { name: 'stripe-key', needles: ['whsec_'], pattern: 'whsec_[A-Za-z0-9+/]{20}', tail: 'A-Za-z0-9+/=' },
  // Anthropic API, admin and OAuth (`sk-ant-oat01-`, `sk-ant-ort01-`) keys; listed before OpenAI.
  { name: 'anthropic-key', needles: ['k-'], anchor: 'k-(?<=sk-)', back: 1, pattern: 'sk-ant-[A-Za-z0-9_-]{20}', tail: 'A-Za-z0-9_\\-' },
  { name: 'openai-key', needles: ['k-'], anchor: 'k-(?<=sk-)', back: 1, pattern: 'sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20}', tail: 'A-Za-z0-9_\\-' },
  { name: 'openai-key', needles: ['k-'], anchor: 'k-(?<=sk-)', back: 1, pattern: 'sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}', tail: 'A-Za-z0-9' },
  // Legacy 48-character keys: mixed case required, so `disk-<hex>` style names do not match.
  {
    name: 'openai-key',
    needles: ['k-'],
    anchor: 'k-(?<=sk-)',
    back: 1,
    pattern: 'sk-(?=[A-Za-z0-9]{0,47}[A-Z])(?=[A-Za-z0-9]{0,47}[a-z])[A-Za-z0-9]{48}',
    tail: 'A-Za-z0-9',
  },
  { name: 'npm-token', needles: ['pm_'], anchor: 'pm_(?<=npm_)', back: 1, pattern: 'npm_[A-Za-z0-9]{36}', tail: 'A-Za-z0-9' },
  {
    name: 'npm-token',
    needles: ['_auth'],
    pattern: String.raw`_auth(?:Token)?[ \t]{0,8}=[ \t]{0,8}["']?(?<secret>[^\s'"$][^\s'"]{7})`,
    tail: String.raw`^\s'"`,
  },
  {
    name: 'authorization-header',
    needles: ['zation', 'RIZAT'],
    anchor: 'zation(?<=[Aa]uthorization)|RIZATION(?<=AUTHORIZATION)',
    back: 7,
    pattern: `(?:[Aa]uthorization|AUTHORIZATION)${SEP}${HEADER_VALUE}`,
    tail: HEADER_VALUE_TAIL,
  },
  {
    name: 'api-key-header',
    needles: ['key', 'Key', 'KEY', 'ken', 'KEN'],
    anchor: '[Kk]ey(?<=[Aa]pi-[Kk]ey)|KEY(?<=API-KEY)|ken(?<=[Pp]rivate-[Tt]oken)|KEN(?<=PRIVATE-TOKEN)',
    back: 11,
    pattern: `(?:[Xx]-(?:[Gg]oog-)?[Aa]pi-[Kk]ey|X-(?:GOOG-)?API-KEY|[Pp]rivate-[Tt]oken|PRIVATE-TOKEN)${SEP}${HEADER_VALUE}`,
    tail: HEADER_VALUE_TAIL,
  },
  // `scheme://user:pass@host`: only the password is replaced; the last `@` before the host wins.
  {
    name: 'url-credentials',
    needles: ['://'],
    pattern: String.raw`://[^\s/?#@:'"]{0,256}:(?<secret>[^\s/?#'"]{1,1024})@`,
  },
];
