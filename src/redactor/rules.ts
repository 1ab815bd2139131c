/**
 * Known secret formats, written for log text rather than source files: no rule needs a delimiter
 * after the secret (`?key=AIza…&a=1`, `foo(sk_live_…)` are caught), and formats that grow (GitHub's
 * long `ghs_<id>_<jwt-like>` tokens, JWTs, header values) are swallowed to the end of their run by a
 * `tail` class, which the stream carries across writes with bounded memory.
 *
 * Constraints the engine relies on (src/redactor/engine.ts):
 * - `anchor` matches inside every match of `pattern`, at most `back` characters after its start, and
 *   its look-behind (if any) stays inside the match; anchors are the cheap prefilter scan, so they
 *   start with a character that is rare in logs (`J(?<=eyJ)` rather than `eyJ`);
 * - `pattern` has a bounded length (< HEAD_LIMIT) and never matches a newline, so a match is
 *   decided by a bounded look-ahead or by the end of its line;
 * - no look-behind in `pattern`: the stream keeps no left context;
 * - only bounded quantifiers before a literal, so a failed attempt costs at most its bound
 *   (no super-linear backtracking).
 */
export interface Rule {
  /** Shown in the replacement `[REDACTED:<name>]` and in scan findings; never the value. */
  readonly name: string;
  /** Regex source found inside every match (see above). */
  readonly anchor: string;
  /** How far before the anchor the match may start (default 0). */
  readonly back?: number;
  /**
   * Scan for this anchor on its own: a lone literal with a common first character (`sk-`, `://`) is
   * fast alone but makes V8 give up its fast skip over the union of the other anchors.
   */
  readonly scanAlone?: true;
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
  { name: 'github-token', anchor: '_(?<=gh[pousr]_)', back: 3, pattern: 'gh[pousr]_[A-Za-z0-9_]{16}', tail: 'A-Za-z0-9_.\\-' },
  { name: 'github-token', anchor: '_pat_(?<=github_pat_)', back: 6, pattern: 'github_pat_[A-Za-z0-9_]{22}', tail: 'A-Za-z0-9_' },
  { name: 'aws-access-key-id', anchor: '[KSB]IA(?<=A...)|CCA(?<=ACCA)|3T[A-Z0-9](?<=A3T.)', back: 1, pattern: '(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}' },
  {
    name: 'aws-secret-access-key',
    anchor: '[Kk]ey(?<=ccess_?[Kk]ey|ccess-key)|KEY(?<=CCESS_KEY)',
    back: 14,
    pattern: `(?:[Ss]ecret_?[Aa]ccess_?[Kk]ey|SECRET_ACCESS_KEY|secret-access-key)${SEP_OPTIONAL}(?<secret>[A-Za-z0-9/+]{40})`,
    tail: 'A-Za-z0-9/+=',
  },
  {
    name: 'aws-session-token',
    anchor: '[Tt]oken(?<=ession_?[Tt]oken|ession-token)|TOKEN(?<=ESSION_TOKEN)',
    back: 8,
    pattern: `(?:[Ss]ession_?[Tt]oken|SESSION_TOKEN|session-token)${SEP_OPTIONAL}(?<secret>[A-Za-z0-9/+=]{100})`,
    tail: 'A-Za-z0-9/+=',
  },
  { name: 'gcp-api-key', anchor: 'AIza', pattern: 'AIza[A-Za-z0-9_-]{35}', tail: 'A-Za-z0-9_\\-' },
  {
    name: 'gcp-service-account',
    anchor: '_key_id',
    back: 7,
    pattern: `private_key_id${SEP}(?<secret>[0-9a-fA-F]{40})`,
    tail: '0-9a-fA-F',
  },
  {
    name: PRIVATE_KEY_RULE,
    anchor: 'BEGIN ',
    back: 5,
    pattern: '-----BEGIN (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?-----',
    opensBlock: true,
  },
  {
    name: 'jwt',
    anchor: 'J(?<=eyJ)',
    back: 2,
    pattern: 'eyJ[A-Za-z0-9_-]{8,1024}\\.[A-Za-z0-9_-]{8}',
    tail: 'A-Za-z0-9_.\\-',
  },
  { name: 'slack-token', anchor: 'xox[abposre]-', pattern: 'xox[abposre]-[A-Za-z0-9-]{10}', tail: 'A-Za-z0-9\\-' },
  { name: 'slack-token', anchor: 'xapp-', pattern: 'xapp-[0-9]-[A-Za-z0-9-]{10}', tail: 'A-Za-z0-9\\-' },
  {
    name: 'slack-webhook',
    anchor: 'hooks\\.slack\\.com/',
    pattern: 'hooks\\.slack\\.com/(?:services|workflows|triggers)/(?<secret>[A-Za-z0-9_/-]{8})',
    tail: 'A-Za-z0-9_/\\-',
  },
  { name: 'stripe-key', anchor: '_(?:live|test)_(?<=[sr]k_(?:live|test)_)', back: 2, pattern: '[sr]k_(?:live|test)_[A-Za-z0-9]{10}', tail: 'A-Za-z0-9' },
  { name: 'stripe-key', anchor: '_(?<=whsec_)', back: 5, pattern: 'whsec_[A-Za-z0-9+/]{20}', tail: 'A-Za-z0-9+/=' },
  // Anthropic API, admin and OAuth (`sk-ant-oat01-`, `sk-ant-ort01-`) keys; listed before OpenAI.
  { name: 'anthropic-key', anchor: 'sk-', scanAlone: true, pattern: 'sk-ant-[A-Za-z0-9_-]{20}', tail: 'A-Za-z0-9_\\-' },
  { name: 'openai-key', anchor: 'sk-', scanAlone: true, pattern: 'sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20}', tail: 'A-Za-z0-9_\\-' },
  { name: 'openai-key', anchor: 'T3BlbkFJ', back: 23, pattern: 'sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}', tail: 'A-Za-z0-9' },
  // Legacy 48-character keys: mixed case required, so `disk-<hex>` style names do not match.
  {
    name: 'openai-key',
    anchor: 'sk-',
    scanAlone: true,
    pattern: 'sk-(?=[A-Za-z0-9]{0,47}[A-Z])(?=[A-Za-z0-9]{0,47}[a-z])[A-Za-z0-9]{48}',
    tail: 'A-Za-z0-9',
  },
  { name: 'npm-token', anchor: '_(?<=npm_)', back: 3, pattern: 'npm_[A-Za-z0-9]{36}', tail: 'A-Za-z0-9' },
  {
    name: 'npm-token',
    anchor: '_auth(?:Token)?',
    pattern: String.raw`_auth(?:Token)?[ \t]{0,8}=[ \t]{0,8}["']?(?<secret>[^\s'"$][^\s'"]{7})`,
    tail: String.raw`^\s'"`,
  },
  {
    name: 'authorization-header',
    anchor: 'zation(?<=[Aa]uthorization)|ZATION(?<=AUTHORIZATION)',
    back: 8,
    pattern: `(?:[Aa]uthorization|AUTHORIZATION)${SEP}${HEADER_VALUE}`,
    tail: HEADER_VALUE_TAIL,
  },
  {
    name: 'api-key-header',
    anchor: '[Kk]ey(?<=[Aa]pi-[Kk]ey)|KEY(?<=API-KEY)|[Tt]oken(?<=[Pp]rivate-[Tt]oken)|TOKEN(?<=PRIVATE-TOKEN)',
    back: 11,
    pattern: `(?:[Xx]-(?:[Gg]oog-)?[Aa]pi-[Kk]ey|X-(?:GOOG-)?API-KEY|[Pp]rivate-[Tt]oken|PRIVATE-TOKEN)${SEP}${HEADER_VALUE}`,
    tail: HEADER_VALUE_TAIL,
  },
  // `scheme://user:pass@host`: only the password is replaced; the last `@` before the host wins.
  {
    name: 'url-credentials',
    anchor: '://',
    scanAlone: true,
    pattern: String.raw`://[^\s/?#@:'"]{0,256}:(?<secret>[^\s/?#'"]{1,1024})@`,
  },
];
