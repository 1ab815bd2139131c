// The generated CI log and registered values shared by the redactor benchmarks (deterministic).
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

/** About `megabytes` MB of log as one Buffer. */
export function makeLog(megabytes) {
  const parts = [];
  let size = 0;
  for (let i = 0; size < megabytes * 1e6; i++) {
    const text = `${line(i)}\n`;
    parts.push(text);
    size += text.length;
  }
  return Buffer.from(parts.join(''), 'utf8');
}

/** Cut `buffer` into `size`-byte chunks (views, no copies). */
export function chunksOf(buffer, size) {
  const chunks = [];
  for (let offset = 0; offset < buffer.length; offset += size) chunks.push(buffer.subarray(offset, offset + size));
  return chunks;
}

/** "A few registered values": a `ghs_` token, an `sk-ant-` key and a 25-line PEM key (same on every call). */
export function registeredValues() {
  const saved = seed;
  seed = 7;
  const values = [
    `ghs_${from(ALNUM, 36)}`,
    `sk-ant-api03-${from(`${ALNUM}_-`, 93)}AA`,
    `-----BEGIN RSA PRIVATE KEY-----\n${Array.from({ length: 25 }, () => b64(64)).join('\n')}\n-----END RSA PRIVATE KEY-----\n`,
  ];
  seed = saved;
  return values;
}
