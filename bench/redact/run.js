// Redactor throughput against a pass-through Transform and secretlint, on the same generated log.
// Usage: npx tsc -p tsconfig.build.json && node --expose-gc bench/redact/run.js [sizeMB ...] [--runs=N]
// (default: 50 100, 3 runs; medians are reported).
//
// In memory: 64 KB chunks from memory → Transform → a sink that discards; the input stays in memory.
// Pipeline: the log written to a temporary file → fs.createReadStream (64 KB reads) → Transform →
// a sink that discards, which is how the redactor is used (agent output, log files).
import { closeSync, createReadStream, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { chunksOf, makeLog, registeredValues } from './corpus.js';

// REDACTOR_MODULE: another build of src/redactor/index.js, to measure before/after in the same harness.
const { Redactor } = await import(process.env.REDACTOR_MODULE ?? '../../dist/src/redactor/index.js');

const CHUNK = 65536; // what a pipe or file stream delivers

const args = process.argv.slice(2);
const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);
const sizes = args.filter((a) => !a.startsWith('--')).map(Number);

const passThrough = () => new Transform({ transform: (chunk, _e, callback) => callback(null, chunk) });
const fullRedactor = () => {
  const redactor = new Redactor();
  for (const value of registeredValues()) redactor.registerSecret(value);
  return redactor;
};

async function measure(source, transform) {
  let out = 0;
  let peakRss = 0;
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      out += chunk.length;
      callback();
    },
  });
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const started = performance.now();
  await pipeline(source(), transform, sink);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  return { seconds, out, peakRss: Math.max(peakRss, process.memoryUsage().rss), heapGrowth };
}

async function secretlint(buffer) {
  const config = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] };
  // secretlint scans whole sources; feed it ~1 MB sources cut at line ends (what a log shipper would do).
  const text = buffer.toString('utf8');
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

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mb = (bytes) => Math.round(bytes / 1e6);

const dir = mkdtempSync(join(tmpdir(), 'redact-bench-'));
const results = [];
try {
  for (const size of sizes.length > 0 ? sizes : [50, 100]) {
    const buffer = makeLog(size);
    const chunks = chunksOf(buffer, CHUNK);
    const file = join(dir, `log-${size}.txt`);
    // Written, flushed and read once, so the pipeline reads from the page cache, not a disk busy writing back.
    const fd = openSync(file, 'w');
    writeSync(fd, buffer);
    fsyncSync(fd);
    closeSync(fd);
    readFileSync(file);
    const fromMemory = () => Readable.from(chunks);
    const fromFile = () => createReadStream(file, { highWaterMark: CHUNK });
    const rate = (seconds) => buffer.length / 1e6 / seconds;
    const samples = [];
    for (let run = 0; run < runs; run++) {
      const memPass = await measure(fromMemory, passThrough());
      const memRules = await measure(fromMemory, new Redactor().createStream());
      const memFull = await measure(fromMemory, fullRedactor().createStream());
      // Each file measurement reads the file once first (page cache), and the two alternate order.
      const warm = () => pipeline(fromFile(), new Writable({ write: (_c, _e, callback) => callback() }));
      const fileRun = async (transform) => (await warm(), measure(fromFile, transform));
      const filePass = run % 2 === 0 ? await fileRun(passThrough()) : undefined;
      const fileFull = await fileRun(fullRedactor().createStream());
      const filePassed = filePass ?? (await fileRun(passThrough()));
      const lint = await secretlint(buffer);
      if (memFull.out !== fileFull.out) throw new Error('in-memory and pipeline outputs differ');
      samples.push({ memPass, memRules, memFull, filePass: filePassed, fileFull, lint });
      console.error(
        `${size} MB run ${run + 1}: pass ${rate(memPass.seconds).toFixed(0)}, rules ${rate(memRules.seconds).toFixed(0)}, ` +
          `full ${rate(memFull.seconds).toFixed(0)}, file pass ${rate(filePassed.seconds).toFixed(0)}, ` +
          `file full ${rate(fileFull.seconds).toFixed(0)}, secretlint ${rate(lint.seconds).toFixed(0)} MB/s`,
      );
    }
    const med = (pick) => median(samples.map(pick));
    const memFullSeconds = med((s) => s.memFull.seconds);
    const lintSeconds = med((s) => s.lint.seconds);
    results.push({
      inputMB: mb(buffer.length),
      runs,
      passThroughMBps: Math.round(rate(med((s) => s.memPass.seconds))),
      rulesOnlyMBps: Math.round(rate(med((s) => s.memRules.seconds))),
      redactorMBps: Math.round(rate(memFullSeconds)),
      secretlintMBps: Math.round(rate(lintSeconds)),
      redactorVsSecretlint: Number(med((s) => s.lint.seconds / s.memFull.seconds).toFixed(2)),
      redactorVsPassThrough: `1/${med((s) => s.memFull.seconds / s.memPass.seconds).toFixed(1)}`,
      fileThroughMBps: Math.round(rate(med((s) => s.filePass.seconds))),
      fileRedactorMBps: Math.round(rate(med((s) => s.fileFull.seconds))),
      fileRedactorVsThrough: `1/${med((s) => s.fileFull.seconds / s.filePass.seconds).toFixed(1)}`,
      memPeakRssMB: mb(med((s) => s.memFull.peakRss)),
      filePeakRssMB: mb(med((s) => s.fileFull.peakRss)),
      heapGrowthMB: mb(med((s) => s.fileFull.heapGrowth)),
      secretlintFindings: samples[0].lint.findings,
    });
    console.error(JSON.stringify(results.at(-1)));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.table(results);
