/**
 * Masking by value: the forms in which a known secret (minted token, App key, LLM key) shows up in
 * logs. Like GitHub Actions' masker: the raw value, its JSON-escaped and URL-encoded forms, base64
 * and base64url at byte offsets 0, 1 and 2 (the part of the encoding that depends only on the
 * value), base64 of `x-access-token:<value>` (git's Basic auth), and each line of a multi-line
 * secret on its own.
 */
import { UsageError } from '../errors.js';

/** Shorter values (or lines) would mask ordinary words; they are refused or skipped. */
export const MIN_SECRET_LENGTH = 8;

export const REGISTERED_RULE = 'registered-secret';

/** The base64 characters that depend only on `bytes` when `offset` unknown bytes precede them. */
function base64Core(bytes: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
  const first = Math.ceil((8 * offset) / 6);
  const last = Math.floor((8 * (offset + bytes.length)) / 6);
  return encoded.slice(first, last);
}

const toBase64Url = (base64: string): string => base64.replace(/\+/g, '-').replace(/\//g, '_');

function singleLineForms(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const forms = [JSON.stringify(text).slice(1, -1), encodeURIComponent(text)];
  for (const offset of [0, 1, 2]) {
    const core = base64Core(bytes, offset);
    forms.push(core, toBase64Url(core));
  }
  const basic = Buffer.from(`x-access-token:${text}`, 'utf8').toString('base64');
  forms.push(basic, toBase64Url(basic));
  return forms;
}

/**
 * Every literal to mask for `value`, as latin1 strings of its UTF-8 bytes (the engine works on bytes).
 * Throws UsageError when nothing in the value is long enough to mask safely.
 */
export function maskedForms(value: string): string[] {
  const lines = value
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line.length >= MIN_SECRET_LENGTH);
  if (lines.length === 0) {
    throw new UsageError(
      `a secret to mask must have at least ${MIN_SECRET_LENGTH} characters (besides whitespace); shorter values would mask ordinary text`,
    );
  }
  const forms = new Set<string>();
  for (const line of lines) {
    forms.add(line);
    // Lines of a multi-line secret are masked raw; encodings of each line would multiply the
    // literals (a PEM key has ~28 lines) for forms that only ever appear for the whole value.
    if (lines.length === 1) for (const form of singleLineForms(line)) forms.add(form);
  }
  if (lines.length > 1) for (const form of singleLineForms(value.trim())) forms.add(form);
  return [...forms]
    .filter((form) => form.length >= MIN_SECRET_LENGTH && !/[\r\n]/.test(form))
    .map((form) => Buffer.from(form, 'utf8').toString('latin1'));
}
