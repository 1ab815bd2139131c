import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redactor/index.js';
import { fakePem, fakeSecrets, random } from './helpers.js';

/** The log contexts of checklist line 1: a secret must be caught in each, whatever follows it. */
const CONTEXTS: Record<string, (t: string) => string> = {
  plain: (t) => `2026-11-22T04:00:00Z step 3: ${t} done`,
  json: (t) => JSON.stringify({ level: 'info', value: t, n: 1 }),
  yaml: (t) => `env:\n  value: ${t}\n  other: 1`,
  dotenv: (t) => `SOME_VALUE=${t}\nNEXT=1`,
  query: (t) => `GET https://example.com/cb?a=1&key=${t}&b=2 200`,
  'shell trace': (t) => `+ curl -sf -H 'X-Trace: ${t}' https://example.com/api`,
  'followed by )': (t) => `call(${t})`,
  'followed by ,': (t) => `[${t},1]`,
  "single-quoted": (t) => `'${t}'`,
  'double-quoted': (t) => `"${t}"`,
  'followed by &': (t) => `${t}&next=1`,
};

describe('known formats', () => {
  const redactor = new Redactor();
  for (const { rule, secret, text } of fakeSecrets()) {
    for (const [context, wrap] of Object.entries(CONTEXTS)) {
      it(`${rule} (${text('…')}) in ${context}`, () => {
        const input = wrap(text(secret));
        const output = redactor.redact(input);
        expect(output).not.toContain(secret);
        expect(output).toContain(`[REDACTED:${rule}]`);
        expect(redactor.scan(input).map((f) => f.rule)).toContain(rule);
      });
    }
  }

  it('shell trace of an Authorization header keeps the rest of the command', () => {
    const token = `ghs_${random(36)}`;
    const output = redactor.redact(`+ curl -H 'Authorization: token ${token}' https://api.github.com/repos`);
    expect(output).toBe(`+ curl -H 'Authorization: token [REDACTED:authorization-header]' https://api.github.com/repos`);
  });

  it('replaces only the password of URL credentials', () => {
    const password = random(24);
    expect(redactor.redact(`cloning https://x-access-token:${password}@github.com/a/b.git`)).toBe(
      'cloning https://x-access-token:[REDACTED:url-credentials]@github.com/a/b.git',
    );
    expect(redactor.redact(`redis://:${password}@cache:6379/0`)).toBe('redis://:[REDACTED:url-credentials]@cache:6379/0');
  });

  it('swallows the whole long ghs_ installation token, not just 36 characters', () => {
    const token = `ghs_12345678_${'eyJhbGciOiJSUzI1NiJ9'}.${random(300, 'abcdefghijklmnopqrstuvwxyz0123456789_-')}.${random(40)}`;
    expect(redactor.redact(`token ${token} end`)).toBe('token [REDACTED:github-token] end');
  });

  for (const type of ['RSA ', 'EC ', 'OPENSSH ', '', 'ENCRYPTED ']) {
    it(`PEM ${type || 'PKCS8 '}private key, multi-line and JSON-escaped`, () => {
      const pem = fakePem(type);
      const body = pem.split('\n')[1] as string;
      const lines = redactor.redact(`before\n${pem}\nafter`).split('\n');
      expect(lines[0]).toBe('before');
      expect(lines.at(-1)).toBe('after');
      expect(lines.slice(1, -1).every((line) => line === '[REDACTED:private-key]')).toBe(true);
      const json = JSON.stringify({ type: 'service_account', private_key: `${pem}\n`, client_email: 'a@b.iam.gserviceaccount.com' });
      const redactedJson = redactor.redact(json);
      expect(redactedJson).not.toContain(body);
      expect(redactedJson).toContain('"client_email":"a@b.iam.gserviceaccount.com"');
    });
  }

  it('service-account JSON: private_key_id and private_key', () => {
    const id = random(40, '0123456789abcdef');
    const pem = fakePem('');
    const out = redactor.redact(JSON.stringify({ private_key_id: id, private_key: pem }, null, 2));
    expect(out).not.toContain(id);
    expect(out).not.toContain(pem.split('\n')[2]);
    expect(out).toContain('[REDACTED:gcp-service-account]');
  });

  it('scan names rule and offsets, never the value', () => {
    const token = `ghp_${random(36)}`;
    const text = `é x ${token} y`; // offsets are string indices, also after non-ASCII text
    const [finding] = redactor.scan(text);
    expect(finding).toEqual({ rule: 'github-token', start: 4, end: 4 + token.length });
    expect(JSON.stringify(redactor.scan(text))).not.toContain(token);
  });
});

describe('look-alikes pass byte-for-byte', () => {
  const hex = (n: number): string => random(n, '0123456789abcdef');
  const corpus = [
    `commit ${hex(40)}`,
    `Merge ${hex(40)} into ${hex(40)}`,
    `request_id=${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)} status=200`,
    `"integrity": "sha512-${Buffer.from(random(64)).toString('base64')}",`,
    `"integrity": "sha1-${Buffer.from(random(20)).toString('base64')}"`,
    `docker.io/library/node@sha256:${hex(64)}`,
    `${hex(12)}: Pull complete`,
    `data: ${Buffer.from(random(300)).toString('base64')}`,
    `data: ${Buffer.from(random(300)).toString('base64url')}`,
    'ssh://git@github.com:22/acme/widgets.git and git@github.com:acme/widgets.git',
    'https://registry.npmjs.org/@types%2fnode https://user@example.com/path http://localhost:8080/a@b',
    'disk-0123456789abcdef0123456789abcdef0123456789abcdef ask-me task-runner risk-free',
    'ghp_short gho_ AKIA AKIAshort AIza eyJ eyJhbGciOi xoxb- sk- sk-ant- npm_ whsec_ -----BEGIN CERTIFICATE-----',
    'secret_access_key is not set; Authorization header missing; private_key_id unset',
    'progress 45%\r progress 46%\r \x1b[32m✔\x1b[0m done — naïve café 日本語',
    'export PATH=/usr/local/bin:$PATH; x=1&y=2; f(a, b); "quoted", \'single\'',
    `Step 4/12 : RUN npm ci ---> Using cache ---> ${hex(12)}`,
  ].join('\n');

  it('the false-positive corpus is unchanged', () => {
    const redactor = new Redactor();
    expect(redactor.redact(corpus)).toBe(corpus);
    expect(redactor.scan(corpus)).toEqual([]);
  });

  it('stays unchanged with registered values too', () => {
    const redactor = new Redactor();
    redactor.registerSecret(`ghs_${random(36)}`);
    redactor.registerSecret(fakePem());
    expect(redactor.redact(corpus)).toBe(corpus);
  });
});
