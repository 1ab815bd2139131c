// Redactor throughput against a pass-through Transform and secretlint, on the same generated log.
// Usage: npx tsc -p tsconfig.build.json && node bench/redact/run.js [sizeMB ...]   (default: 50 100)
import { performance } from 'node:perf_hooks';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { Redactor } from '../../dist/src/redactor/index.js';

const CHUNK = 65536; // what a pipe or file stream delivers

let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const from = (alphabet, n) => { let s = ''; for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)]; return s; };
const hex = (n) => from('0123456789abcdef', n);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const b64 = (n) => from(`${ALNUM}+/`, n);

/** Mostly benign CI output (npm, git, docker, HTTP logs); about one line in 2000 holds a secret. */
function line(i) {
  const ts = `2026-11-22T04:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z`;
  if (i % 2000 === 1999) {
    const secrets = [
      `+ curl -H 'Authorization: Bearer ghs_${from('0123456789', 8)}_${b64(200).replace(/[+/]/g, '_')}' https://api.github.com/x`,
      `AWS_ACCESS_KEY_ID=AKIA${from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)} AWS_SECRET_ACCESS_KEY=${b64(40)}`,
      `remote: https://x-access-token:ghp_${from(ALNUM, 36)}@github.com/acme/widgets.git`,
      `config: {"apiKey":"AIza${from(`${ALNUM}_-`, 35)}","llm":"sk-ant-api03-${from(`${ALNUM}_-`, 90)}"}`,
    ];
    return `${ts} ${secrets[(i / 2000) % secrets.length | 0]}`;
  }
  switch (Math.floor(rnd() * 10)) {
    case 0: return `${ts} npm http fetch GET 200 https://registry.npmjs.org/@types%2fnode 123ms (cache revalidated)`;
    case 1: return `${ts}     "integrity": "sha512-${b64(86)}==",`;
    case 2: return `${ts} commit ${hex(40)} Merge pull request #${i % 900} from acme/feature-${hex(6)}`;
    case 3: return `${ts} \x1b[32m✔\x1b[0m Step ${i % 20}/20 : RUN npm ci --no-audit ---> Using cache ---> ${hex(12)}`;
    case 4: return `${ts} ${hex(12)}: Pull complete sha256:${hex(64)}`;
    case 5: return `${ts} request_id=${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)} method=POST path=/api/v1/sessions status=201 duration_ms=${i % 500}`;
    case 6: return `${ts} Downloading ${hex(12)} [=========>        ] ${(i % 98) + 1}.2MB/98.1MB\r`;
    case 7: return `${ts} info: Compiling TypeScript sources in src/providers/gcp/instances.ts (${i % 300} files)`;
    case 8: return `${ts} From https://github.com/acme/widgets\n * branch main -> FETCH_HEAD ${hex(7)}..${hex(7)}`;
    default: return `${ts} npm WARN deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported`;
  }
}

function makeLog(megabytes) {
  const parts = [];
  let size = 0;
  for (let i = 0; size < megabytes * 1e6; i++) {
    const text = `${line(i)}\n`;
    parts.push(text);
    size += text.length;
  }
  const buffer = Buffer.from(parts.join(''), 'utf8');
  const chunks = [];
  for (let offset = 0; offset < buffer.length; offset += CHUNK) chunks.push(buffer.subarray(offset, offset + CHUNK));
  return { bytes: buffer.length, chunks };
}

const mb = (bytes) => (bytes / 1e6).toFixed(0);

async function throughStream(chunks, transform) {
  let out = 0;
  let peakRss = 0;
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      out += chunk.length;
      callback();
    },
  });
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const started = performance.now();
  await pipeline(Readable.from(chunks), transform, sink);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  return { seconds, out, peakRss: Math.max(peakRss, process.memoryUsage().rss) };
}

async function secretlint(chunks) {
  const config = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] };
  // secretlint scans whole sources; feed it ~1 MB sources cut at line ends (what a log shipper would do).
  const text = Buffer.concat(chunks).toString('utf8');
  const started = performance.now();
  let findings = 0;
  for (let offset = 0; offset < text.length; ) {
    let end = text.indexOf('\n', offset + 1_000_000);
    end = end === -1 ? text.length : end + 1;
    const result = await lintSource({
      source: { content: text.slice(offset, end), filePath: '/log.txt', ext: '.txt', contentType: 'text' },
      options: { config, maskSecrets: true },
    });
    findings += result.messages.length;
    offset = end;
  }
  return { seconds: (performance.now() - started) / 1000, findings };
}

const sizes = process.argv.slice(2).map(Number);
const results = [];
for (const size of sizes.length > 0 ? sizes : [50, 100]) {
  const { bytes, chunks } = makeLog(size);
  globalThis.gc?.();
  const passThrough = await throughStream(chunks, new Transform({ transform: (chunk, _e, callback) => callback(null, chunk) }));

  const rulesOnly = await throughStream(chunks, new Redactor().createStream());
  const redactor = new Redactor();
  redactor.registerSecret(`ghs_${from(ALNUM, 36)}`);
  redactor.registerSecret(`sk-ant-api03-${from(`${ALNUM}_-`, 93)}AA`);
  redactor.registerSecret(`-----BEGIN RSA PRIVATE KEY-----\n${Array.from({ length: 25 }, () => b64(64)).join('\n')}\n-----END RSA PRIVATE KEY-----\n`);
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const redacted = await throughStream(chunks, redactor.createStream());
  const heapAfter = process.memoryUsage().heapUsed;

  const lint = await secretlint(chunks);
  const rate = (seconds) => bytes / 1e6 / seconds;
  results.push({
    inputMB: Number(mb(bytes)),
    passThroughMBps: Math.round(rate(passThrough.seconds)),
    rulesOnlyMBps: Math.round(rate(rulesOnly.seconds)),
    redactorMBps: Math.round(rate(redacted.seconds)),
    secretlintMBps: Math.round(rate(lint.seconds)),
    rulesOnlyVsSecretlint: Number((lint.seconds / rulesOnly.seconds).toFixed(2)),
    redactorVsSecretlint: Number((lint.seconds / redacted.seconds).toFixed(2)),
    redactorVsPassThrough: `1/${(redacted.seconds / passThrough.seconds).toFixed(1)}`,
    redactorPeakRssMB: Number(mb(redacted.peakRss)),
    redactorHeapGrowthMB: Number(mb(heapAfter - heapBefore)),
    secretlintFindings: lint.findings,
  });
  console.error(JSON.stringify(results.at(-1)));
}
console.table(results);
