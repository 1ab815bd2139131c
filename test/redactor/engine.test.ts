/** The fast paths of the engine: needle prefilter, one-pass literal index, escape-free chunks. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiteralIndex } from '../../src/redactor/engine.js';
import { Redactor } from '../../src/redactor/index.js';
import { RULES } from '../../src/redactor/rules.js';
import { fakePem, fakeSecrets, random } from './helpers.js';

const samples = fakeSecrets().map(({ secret, text }) => text(secret));
const fragments = [
  ...samples,
  ...RULES.flatMap((rule) => rule.needles),
  'Authorization', 'AUTHORIZATION', 'X-Goog-Api-Key', 'secretAccessKey', 'SESSION_TOKEN: ', 'session-token=',
  'private_key_id', '": "', 'hooks.slack.com/services/', 'sk_live_', 'whsec_', 'https://u:', 'p@ss', '@h/',
  '-----BEGIN EC PRIVATE KEY-----', ' ', '=', ':', '"', '\n', random(12), random(40, 'abcdef0123456789'),
];
const text = fc.array(fc.constantFrom(...fragments), { maxLength: 40 }).map((parts) => parts.join(''));

describe('needle prefilter', () => {
  it('needles are short literals (V8 searches them with memchr on the first character)', () => {
    for (const rule of RULES) for (const needle of rule.needles) expect(needle.length).toBeLessThanOrEqual(6);
  });

  it('property: every match of every rule has one of its needles (and its anchor) at most `back` after its start', () => {
    const compiled = RULES.map((rule) => ({
      rule,
      pattern: new RegExp(rule.pattern, 'y'),
      anchor: rule.anchor === undefined ? undefined : new RegExp(rule.anchor, 'y'),
    }));
    fc.assert(
      fc.property(text, (input) => {
        for (const { rule, pattern, anchor } of compiled) {
          for (let p = 0; p < input.length; p++) {
            pattern.lastIndex = p;
            if (!pattern.test(input)) continue;
            let covered = false;
            for (let q = p; q <= p + (rule.back ?? 0) && !covered; q++) {
              if (!rule.needles.some((needle) => input.startsWith(needle, q))) continue;
              if (anchor !== undefined) anchor.lastIndex = q;
              covered = anchor === undefined || anchor.test(input);
            }
            expect(covered, `${rule.name} at ${p} in ${JSON.stringify(input)}`).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every sample secret is still found when surrounded by near-miss needle hits', () => {
    const redactor = new Redactor();
    const noise = RULES.flatMap((rule) => rule.needles).join(' ');
    for (const sample of samples) {
      const findings = redactor.scan(`${noise} ${sample} ${noise}`);
      expect(findings.length).toBeGreaterThan(0);
    }
  });
});

describe('registered-value index', () => {
  /** The obvious search: every occurrence of every literal, leftmost first, longest first. */
  const naive = (input: string, literals: string[], limit: number): Array<[number, number]> => {
    const hits: Array<[number, number]> = [];
    for (const literal of literals) {
      for (let at = input.indexOf(literal); at !== -1 && at < limit; at = input.indexOf(literal, at + 1)) hits.push([at, at + literal.length]);
    }
    return hits.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  };
  const literals = ['abcdefgh', 'abcdefghijkl', 'xxxxxxxxxx', random(9), `${random(30)}\t${random(30)}`];

  it('property: finds exactly what a search per literal finds, at any offset from the sampling grid', () => {
    const index = new LiteralIndex([...literals].sort((a, b) => b.length - a.length));
    const piece = fc.oneof(fc.constantFrom(...literals), fc.constantFrom('a', 'x', 'abcd', 'efgh', 'xxxx', ' '));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.nat(400), (parts, cut) => {
        const input = parts.join('');
        const limit = Math.min(input.length, cut);
        const found = index.hits(input, limit).map((hit): [number, number] => [hit.start, hit.end]);
        expect(found).toEqual(naive(input, literals, limit));
      }),
      { numRuns: 500 },
    );
  });

  it('a value shorter than a PEM line and a PEM key registered together are both masked everywhere', () => {
    const redactor = new Redactor();
    const short = random(8);
    const pem = fakePem();
    redactor.registerSecret(short);
    redactor.registerSecret(pem);
    for (let pad = 0; pad < 40; pad++) {
      const out = redactor.redact(`${'.'.repeat(pad)}${short} ${pem.split('\n')[2] as string}`);
      expect(out).toBe(`${'.'.repeat(pad)}[REDACTED:registered-secret] [REDACTED:registered-secret]`);
    }
  });
});

describe('chunks with and without escape codes', () => {
  // eslint-disable-next-line no-control-regex
  const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m|\r/g, '');
  const escapes = fc.constantFrom('\x1b[31m', '\x1b[0m', '\x1b[1;32m', '\r');

  it('property: adding colour codes or \\r anywhere redacts the same secrets (the codes aside)', () => {
    const redactor = new Redactor();
    redactor.registerSecret('registered-value-0123');
    const input = fc.array(fc.constantFrom(...fragments, 'registered-value-0123'), { maxLength: 20 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(input, fc.array(fc.tuple(fc.nat(), escapes), { maxLength: 6 }), (plain, inserts) => {
        // Codes go between characters of the plain text (never inside another code).
        const cuts = inserts.map(([at, code]): [number, string] => [at % (plain.length + 1), code]).sort((a, b) => a[0] - b[0]);
        let coloured = '';
        let last = 0;
        for (const [cut, code] of cuts) {
          coloured += plain.slice(last, cut) + code;
          last = cut;
        }
        coloured += plain.slice(last);
        expect(strip(redactor.redact(coloured))).toBe(strip(redactor.redact(plain)));
      }),
      { numRuns: 400 },
    );
  });

  it('a 64 KB chunk with no escape and the same chunk with one colour code give the same secrets redacted', async () => {
    const redactor = new Redactor();
    const token = `ghp_${random(36)}`;
    const line = `2026-11-22T04:00:00Z info: fetched https://x:${random(20)}@example.com ${token}\n`;
    const plain = line.repeat(Math.ceil(65536 / line.length));
    const coloured = `\x1b[32m${plain}\x1b[0m`;
    expect(redactor.redact(coloured)).toBe(`\x1b[32m${redactor.redact(plain)}\x1b[0m`);
    expect(redactor.redact(plain)).not.toContain(token);
  });
});
