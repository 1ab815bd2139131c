/**
 * The one redaction engine: every byte that leaves a VM (agent output, controller logs, status,
 * comments, PR text) and the controller's policy gate on the diff go through a `Redactor`.
 *
 *   const redactor = new Redactor();
 *   redactor.registerSecret(token);             // masked by value, with its encodings
 *   pipeline(source, redactor.createStream(), destination);
 *
 * Streams are made with `redactor.createStream()` (`redactStream(redactor)` is the same call, for
 * pipeline-style code). Each stream has its own carry state; registered secrets are shared.
 * See docs/redaction.md for the rules, guarantees and known limits.
 */
import { Transform } from 'node:stream';
import { RedactionState, RuleSet, literalSet, marker, type LiteralSet, type Sink } from './engine.js';
import { maskedForms } from './values.js';

export { MIN_SECRET_LENGTH, REGISTERED_RULE } from './values.js';

/** Where a secret was found: rule name and offsets in the scanned text, never the value. */
export interface Finding {
  rule: string;
  start: number;
  end: number;
}

const NON_ASCII = /[^\x00-\x7f]/; // eslint-disable-line no-control-regex

/** Collects the redacted output (and findings) of one write. */
class Collector implements Sink {
  readonly parts: string[] = [];
  readonly findings: Finding[] = [];

  keep(raw: string, start: number, end: number): void {
    if (end > start) this.parts.push(raw.slice(start, end));
  }

  replace(rule: string): void {
    this.parts.push(marker(rule));
  }

  found(rule: string, start: number, end: number): void {
    this.findings.push({ rule, start, end });
  }
}

const markerBytes = new Map<string, Buffer>();

/**
 * A stream's output for one write, as Buffers: kept bytes of the chunk are views of the chunk
 * itself (no re-encoding), only the carried prefix and the markers are encoded.
 */
class ChunkSink implements Sink {
  parts: Buffer[] = [];
  /** Length of the carry that precedes `chunk` in `raw`. */
  carried = 0;
  chunk: Buffer = Buffer.alloc(0);

  keep(raw: string, start: number, end: number): void {
    if (end <= start) return;
    const carried = this.carried;
    if (start < carried) {
      this.parts.push(Buffer.from(raw.slice(start, Math.min(end, carried)), 'latin1'));
      start = carried;
      if (end <= start) return;
    }
    this.parts.push(this.chunk.subarray(start - carried, end - carried));
  }

  replace(rule: string): void {
    let bytes = markerBytes.get(rule);
    if (bytes === undefined) {
      bytes = Buffer.from(marker(rule), 'latin1');
      markerBytes.set(rule, bytes);
    }
    this.parts.push(bytes);
  }

  found(): void {}

  /** The write's output: a few Buffers as they are (views, no copy), or many joined into one. */
  take(): Buffer[] {
    const parts = this.parts;
    this.parts = [];
    return parts.length <= 4 ? parts : [Buffer.concat(parts)];
  }
}

export class Redactor {
  private readonly rules = new RuleSet();
  private literalSet: LiteralSet = literalSet([]);

  /**
   * Mask `value` by value from now on: raw, JSON-escaped, URL-encoded, base64/base64url at byte
   * offsets 0/1/2, base64 of `x-access-token:<value>`, and each line of a multi-line value.
   * Throws UsageError for values too short to mask safely.
   */
  registerSecret(value: string): void {
    // Where two literals start at the same place the longer one is masked.
    this.literalSet = literalSet([...this.literalSet.literals, ...maskedForms(value)]);
  }

  /** Redact a whole text at once; equal to streaming it in any chunking. */
  redact(text: string): string {
    if (!NON_ASCII.test(text)) return this.run(text).parts.join('');
    const bytes = this.run(Buffer.from(text, 'utf8').toString('latin1')).parts.join('');
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }

  /** Where secrets are in `text` (offsets into `text`), for gates that must name file and rule. */
  scan(text: string): Finding[] {
    if (!NON_ASCII.test(text)) return this.run(text).findings;
    const bytes = Buffer.from(text, 'utf8');
    const toIndex = (offset: number): number => bytes.subarray(0, offset).toString('utf8').length;
    return this.run(bytes.toString('latin1')).findings.map((finding) => ({
      rule: finding.rule,
      start: toIndex(finding.start),
      end: toIndex(finding.end),
    }));
  }

  /** A Transform: bytes in, redacted bytes out, with its own carry between writes. */
  createStream(): Transform {
    const state = this.newState();
    const sink = new ChunkSink();
    const step = (stream: Transform, chunk: Buffer, final: boolean): void => {
      sink.carried = state.carried;
      sink.chunk = chunk;
      state.write(chunk.toString('latin1'), final, sink);
      for (const part of sink.take()) stream.push(part);
    };
    return new Transform({
      transform(chunk: Buffer | string, encoding, callback) {
        step(this, typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk, false);
        callback();
      },
      flush(callback) {
        step(this, Buffer.alloc(0), true);
        callback();
      },
    });
  }

  /** @internal for tests: a bare carry state, to check how much a stream holds back. */
  newState(): RedactionState {
    return new RedactionState(this.rules, () => this.literalSet);
  }

  private run(latin1: string): Collector {
    const collector = new Collector();
    this.newState().write(latin1, true, collector);
    return collector;
  }
}

/** Same as `redactor.createStream()`, for `pipeline(source, redactStream(redactor), sink)`. */
export function redactStream(redactor: Redactor): Transform {
  return redactor.createStream();
}
