import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { HEAD_LIMIT } from '../../src/redactor/engine.js';
import { Redactor } from '../../src/redactor/index.js';
import { fakeJwt, fakePem, random, splitAt, streamThrough } from './helpers.js';

const token = `ghp_${random(36)}`;
const longToken = `ghs_${random(8, '0123456789')}_${fakeJwt()}`;
const SAMPLE = [
  `2026-11-22T04:00:00Z \x1b[32minfo\x1b[0m cloning https://x-access-token:${longToken}@github.com/a/b.git`,
  `+ curl -H 'Authorization: Bearer ${random(40)}' https://api.example.com/x?key=AIza${random(35)}&a=1`,
  `export AWS_SECRET_ACCESS_KEY=${random(40)} AKIA${random(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')}`,
  fakePem(),
  `progress 10%\rprogress 20%\r${token} é`,
].join('\n');

describe('stream carry-over', () => {
  it('a secret split across two writes at every byte offset is still redacted', async () => {
    const redactor = new Redactor();
    const whole = redactor.redact(SAMPLE);
    expect(whole).not.toContain(token);
    const length = Buffer.byteLength(SAMPLE);
    for (let offset = 1; offset < length; offset++) {
      expect(await streamThrough(redactor, splitAt(SAMPLE, [offset]))).toBe(whole);
    }
  });

  it('one byte per write gives the same output', async () => {
    const redactor = new Redactor();
    const bytes = Buffer.from(SAMPLE);
    const parts = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    expect(await streamThrough(redactor, parts)).toBe(redactor.redact(SAMPLE));
  });

  const fragments = [
    'ghp_', 'ghs_123_', random(36), 'eyJhbGciOiJSUzI1NiJ9', '.', 'eyJpc3MiOiIxIn0', fakeJwt(), token,
    'AKIA', 'ABCDEFGHIJKLMNOP', 'AIza', random(35), 'sk-ant-', 'sk-', 'xoxb-', 'npm_',
    'Authorization: ', 'Bearer ', 'aws_secret_access_key=', 'https://', 'user:', 'p@ss', '@host/', '://',
    '-----BEGIN RSA PRIVATE KEY-----', '-----END RSA PRIVATE KEY-----', '\\n', '\n', '\r', '\r\n',
    '\x1b[31m', '\x1b[0m', '\x1b]0;title\x07', '\x1b', ' ', '&', ')', '"', "'", ',', 'é', '日本', 'a', 'x=1',
    'registered-value-0123', Buffer.from('registered-value-0123').toString('base64'),
  ];
  const text = fc.array(fc.constantFrom(...fragments), { maxLength: 60 }).map((parts) => parts.join(''));

  it('property: redact(whole) equals the stream output for any chunking', async () => {
    const redactor = new Redactor();
    redactor.registerSecret('registered-value-0123');
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(), { maxLength: 12 }), async (input, cuts) => {
        const length = Buffer.byteLength(input);
        const offsets = cuts.map((cut) => (length === 0 ? 0 : cut % length));
        expect(await streamThrough(redactor, splitAt(input, offsets))).toBe(redactor.redact(input));
      }),
      { numRuns: 400 },
    );
  });

  it('property: scan findings cover exactly what redact replaces', () => {
    const redactor = new Redactor();
    fc.assert(
      fc.property(text, (input) => {
        const findings = redactor.scan(input);
        const markers = redactor.redact(input).match(/\[REDACTED:[a-z-]+\]/g) ?? [];
        expect(findings.length).toBeLessThanOrEqual(markers.length);
        expect(findings.length > 0).toBe(markers.length > 0);
      }),
      { numRuns: 300 },
    );
  });

  it('ANSI colour codes and \\r inside a secret do not let it through', () => {
    const redactor = new Redactor();
    const coloured = `${token.slice(0, 10)}\x1b[1;31m${token.slice(10, 20)}\x1b[0m${token.slice(20)}`;
    expect(redactor.redact(`x ${coloured} y`)).toBe('x [REDACTED:github-token] y');
    const rewritten = `${token.slice(0, 15)}\r${token.slice(15)}`;
    expect(redactor.redact(`x ${rewritten} y`)).toBe('x [REDACTED:github-token] y');
    const prefixColoured = `\x1b[33m${token}\x1b[0m`;
    expect(redactor.redact(prefixColoured)).toBe('\x1b[33m[REDACTED:github-token]\x1b[0m');
  });
});

describe('PEM blocks', () => {
  it('one line per write: every body line is redacted as it arrives', async () => {
    const redactor = new Redactor();
    const pem = fakePem('EC ');
    const lines = pem.split('\n');
    const stream = redactor.createStream();
    const seen: string[] = [];
    stream.on('data', (chunk: Buffer) => seen.push(chunk.toString()));
    for (const line of lines) {
      stream.write(`${line}\n`);
      await new Promise((resolve) => setImmediate(resolve));
      const soFar = seen.join('');
      for (const body of lines.slice(1, -1)) expect(soFar).not.toContain(body);
    }
    stream.write('after\n');
    stream.end();
    await new Promise((resolve) => stream.on('end', resolve));
    expect(seen.join('')).toBe(`${Array(lines.length).fill('[REDACTED:private-key]').join('\n')}\nafter\n`);
  });

  it('if END never arrives, everything after BEGIN stays redacted', async () => {
    const redactor = new Redactor();
    const lines = fakePem().split('\n').slice(0, -1);
    const input = `before\n${lines.join('\n')}\nordinary line\nanother ${random(10)}\n`;
    const expected = `before\n${Array(lines.length + 2).fill('[REDACTED:private-key]').join('\n')}\n[REDACTED:private-key]`;
    expect(redactor.redact(input)).toBe(expected);
    expect(await streamThrough(redactor, input.split(/(?<=\n)/))).toBe(expected);
  });
});

describe('masking by value', () => {
  const value = `v1.${random(40, 'abcdefghijklmnopqrstuvwxyz0123456789-_!$')}`;
  const bytes = Buffer.from(value);
  const forms: Record<string, string> = {
    raw: value,
    'JSON-escaped': JSON.stringify(`${value}"\\`).slice(1, -1),
    'URL-encoded': encodeURIComponent(value),
    'base64 offset 0': bytes.toString('base64'),
    'base64 offset 1': Buffer.concat([Buffer.from('a'), bytes]).toString('base64'),
    'base64 offset 2': Buffer.concat([Buffer.from('ab'), bytes, Buffer.from('zz')]).toString('base64'),
    base64url: Buffer.concat([Buffer.from('q'), bytes]).toString('base64url'),
    'x-access-token basic auth': Buffer.from(`x-access-token:${value}`).toString('base64'),
  };

  for (const [name, form] of Object.entries(forms)) {
    it(`masks the ${name} form`, () => {
      const redactor = new Redactor();
      redactor.registerSecret(value);
      const out = redactor.redact(`log: ${form} end`);
      expect(out).toContain('[REDACTED:registered-secret]');
      expect(out).not.toContain(value);
      // What may remain of an encoded form depends on the neighbouring bytes only (≤ 3 chars each side).
      expect(out.replace(/\[REDACTED:registered-secret\]/, '').length).toBeLessThan('log:  end'.length + 8);
    });
  }

  it('masks each line of a multi-line secret on its own', () => {
    const redactor = new Redactor();
    const pem = fakePem();
    redactor.registerSecret(pem);
    const line = pem.split('\n')[3] as string;
    expect(redactor.redact(`debug: ${line}`)).toBe('debug: [REDACTED:registered-secret]');
    expect(redactor.redact(`b64: ${Buffer.from(pem).toString('base64')}`)).not.toContain(Buffer.from(pem).toString('base64').slice(4, 40));
  });

  it('refuses values too short to mask safely', () => {
    const redactor = new Redactor();
    expect(() => redactor.registerSecret('short')).toThrow(UsageError);
    expect(() => redactor.registerSecret('   \n  \n')).toThrow(UsageError);
  });

  it('registered values are shared by streams created before registration', async () => {
    const redactor = new Redactor();
    const secret = random(24);
    const stream = redactor.createStream();
    redactor.registerSecret(secret);
    const out: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => out.push(chunk));
    stream.end(`x ${secret}\n`);
    await new Promise((resolve) => stream.on('end', resolve));
    expect(Buffer.concat(out).toString()).toBe('x [REDACTED:registered-secret]\n');
  });
});

describe('bounded memory and adversarial input', () => {
  const sink = { keep: (): void => undefined, replace: (): void => undefined, found: (): void => undefined };

  for (const [name, unit] of [
    ['plain text', 'abcdefghij '],
    ['token characters', 'A1b2C3d4E5'],
    ['an endless token', 'Z9y8X7w6V5'],
    ['escape codes', '\x1b[31mab\x1b[0m'],
  ] as const) {
    it(`an endless line of ${name} keeps the carry bounded`, () => {
      const state = new Redactor().newState();
      const chunk = unit.repeat(Math.ceil(65536 / unit.length));
      if (name === 'an endless token') state.write('ghp_', false, sink);
      let maxCarry = 0;
      for (let i = 0; i < 160; i++) {
        state.write(chunk, false, sink); // ~10 MB, no newline
        maxCarry = Math.max(maxCarry, state.carried);
      }
      // The carry is HEAD_LIMIT visible characters; escape codes between them ride along.
      const rawPerVisible = unit.length / unit.replace(/\x1b\[[0-9;]*m/g, '').length; // eslint-disable-line no-control-regex
      expect(maxCarry).toBeLessThanOrEqual(HEAD_LIMIT * rawPerVisible + 600);
    });
  }

  it('an endless unterminated PEM block keeps the carry bounded', () => {
    const state = new Redactor().newState();
    state.write('-----BEGIN PRIVATE KEY-----', false, sink);
    let maxCarry = 0;
    for (let i = 0; i < 100; i++) {
      state.write('QUJD'.repeat(16384), false, sink);
      maxCarry = Math.max(maxCarry, state.carried);
    }
    expect(maxCarry).toBeLessThanOrEqual(HEAD_LIMIT + 600);
  });

  const adversarial: Array<[string, string, (out: string) => void]> = [
    ['eyJ repeated', 'eyJ'.repeat(50_000), (out) => expect(out).toBe('eyJ'.repeat(50_000))],
    ['eyJ run then dot', `eyJ${'a'.repeat(5000)}.bbbbbbbbbb`, (out) => expect(out).toBe(`eyJ${'a'.repeat(5000)}.bbbbbbbbbb`)],
    ['URL user:pass without @', `https://${'a:'.repeat(40_000)}`, (out) => expect(out).toBe(`https://${'a:'.repeat(40_000)}`)],
    [':// repeated', '://a:b'.repeat(30_000), (out) => expect(out).toBe('://a:b'.repeat(30_000))],
    ['ghp_ repeated (a valid token shape)', 'ghp_'.repeat(50_000), (out) => expect(out).toBe('[REDACTED:github-token]')],
    ['Authorization: repeated', 'Authorization:'.repeat(20_000), (out) => expect(out).toBe('Authorization:[REDACTED:authorization-header]')],
    ['BEGIN without PRIVATE KEY', '-----BEGIN RSA RSA RSA RSA '.repeat(10_000), (out) => expect(out).toBe('-----BEGIN RSA RSA RSA RSA '.repeat(10_000))],
    ['aws key name repeated', 'secret_access_key='.repeat(20_000), (out) => expect(out).toBe('secret_access_key='.repeat(20_000))],
    ['escape floods', '\x1b['.repeat(50_000), (out) => expect(out).toBe('\x1b['.repeat(50_000))],
    ['sk- with lowercase hex', `sk-${'a'.repeat(100_000)}`, (out) => expect(out).toBe(`sk-${'a'.repeat(100_000)}`)],
    ['one long token run', `ghp_${'A'.repeat(200_000)} tail`, (out) => expect(out).toBe('[REDACTED:github-token] tail')],
  ];
  for (const [name, input, check] of adversarial) {
    it(`adversarial input: ${name}`, () => check(new Redactor().redact(input)));
  }
});
