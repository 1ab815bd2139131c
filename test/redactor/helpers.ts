/** Fake secrets of the right shape, generated per run (never real ones), and stream helpers. */
import { randomBytes } from 'node:crypto';
import type { Redactor } from '../../src/redactor/index.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function random(length: number, alphabet = ALNUM): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[(bytes[i] as number) % alphabet.length];
  return out;
}

const b64url = (n: number): string => random(n, `${ALNUM}-_`);

export function fakeJwt(): string {
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ iss: random(6), exp: 1_900_000_000 })).toString('base64url');
  return `${header}.${payload}.${b64url(86)}`;
}

export function fakePem(type = 'RSA '): string {
  const body = Array.from({ length: 6 }, () => random(64, `${ALNUM}+/`)).join('\n');
  return `-----BEGIN ${type}PRIVATE KEY-----\n${body}\n-----END ${type}PRIVATE KEY-----`;
}

/** One fake value per rule name; the value is what must never appear in output. */
export function fakeSecrets(): Array<{ rule: string; secret: string; text: (secret: string) => string }> {
  const plain = (secret: string): string => secret;
  return [
    { rule: 'github-token', secret: `ghp_${random(36)}`, text: plain },
    { rule: 'github-token', secret: `gho_${random(36)}`, text: plain },
    { rule: 'github-token', secret: `ghu_${random(36)}`, text: plain },
    { rule: 'github-token', secret: `ghr_${random(36)}`, text: plain },
    { rule: 'github-token', secret: `ghs_${random(36)}`, text: plain },
    // The long installation-token form: ghs_<digits>_<jwt-like with . _ ->
    { rule: 'github-token', secret: `ghs_${random(8, '0123456789')}_${fakeJwt()}`, text: plain },
    { rule: 'github-token', secret: `github_pat_${random(22)}_${random(59)}`, text: plain },
    { rule: 'aws-access-key-id', secret: `AKIA${random(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`, text: plain },
    { rule: 'aws-access-key-id', secret: `ASIA${random(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`, text: plain },
    { rule: 'aws-secret-access-key', secret: random(40, `${ALNUM}+/`), text: (s) => `aws_secret_access_key=${s}` },
    { rule: 'aws-secret-access-key', secret: random(40, `${ALNUM}+/`), text: (s) => `"SecretAccessKey": "${s}"` },
    { rule: 'gcp-api-key', secret: `AIza${random(35, `${ALNUM}_-`)}`, text: plain },
    { rule: 'gcp-service-account', secret: random(40, '0123456789abcdef'), text: (s) => `"private_key_id": "${s}"` },
    { rule: 'jwt', secret: fakeJwt(), text: plain },
    { rule: 'slack-token', secret: `xoxb-${random(12, '0123456789')}-${random(24)}`, text: plain },
    { rule: 'stripe-key', secret: `sk_live_${random(24)}`, text: plain },
    { rule: 'stripe-key', secret: `rk_test_${random(24)}`, text: plain },
    { rule: 'openai-key', secret: `sk-proj-${b64url(120)}`, text: plain },
    { rule: 'openai-key', secret: `sk-${random(20)}T3BlbkFJ${random(20)}`, text: plain },
    { rule: 'anthropic-key', secret: `sk-ant-api03-${b64url(93)}AA`, text: plain },
    { rule: 'anthropic-key', secret: `sk-ant-oat01-${b64url(80)}`, text: plain },
    { rule: 'anthropic-key', secret: `sk-ant-ort01-${b64url(80)}`, text: plain },
    { rule: 'npm-token', secret: `npm_${random(36)}`, text: plain },
    { rule: 'npm-token', secret: random(36), text: (s) => `//registry.npmjs.org/:_authToken=${s}` },
    { rule: 'authorization-header', secret: random(40), text: (s) => `Authorization: Bearer ${s}` },
    { rule: 'authorization-header', secret: random(40), text: (s) => `authorization: token ${s}` },
    { rule: 'authorization-header', secret: Buffer.from(`user:${random(20)}`).toString('base64'), text: (s) => `Authorization: Basic ${s}` },
    { rule: 'api-key-header', secret: random(40), text: (s) => `x-api-key: ${s}` },
    { rule: 'url-credentials', secret: random(30), text: (s) => `https://x-access-token:${s}@github.com/acme/widgets.git` },
    { rule: 'url-credentials', secret: random(20), text: (s) => `postgres://app:${s}@db.internal:5432/app` },
  ];
}

/** Push `parts` through a fresh stream of `redactor` and return the concatenated output. */
export async function streamThrough(redactor: Redactor, parts: Array<string | Buffer>): Promise<string> {
  const stream = redactor.createStream();
  const out: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  for (const part of parts) stream.write(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
  stream.end();
  await done;
  return Buffer.concat(out).toString('utf8');
}

/** Split `text` (as UTF-8 bytes) at the given byte offsets. */
export function splitAt(text: string, offsets: number[]): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const cuts = [...new Set(offsets.filter((o) => o > 0 && o < bytes.length))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const cut of cuts) {
    parts.push(bytes.subarray(last, cut));
    last = cut;
  }
  parts.push(bytes.subarray(last));
  return parts;
}
