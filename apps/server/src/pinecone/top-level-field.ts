/**
 * Reads one field of a JSON object's text without parsing the rest of it: what a cluster gateway
 * needs to route an upsert (its `namespace`) while forwarding the body, as received, to the writer
 * that parses and validates it. It looks only near the two ends of the text — the Pinecone clients
 * put `namespace` last, this project's load generator first — so its cost does not grow with the
 * vectors in between.
 *
 * The answer is a routing hint, exact when the text fits in the two windows: beyond them a key in
 * the middle goes unseen. The writer parses the whole body and refuses to apply a write whose
 * namespace is not the one it was routed by (the gateway then routes it again), so a wrong hint
 * costs a second hop, never a wrong write. Anything this cannot decide — not an object, a value other
 * than a string or null, too many candidates — is `unknown`, and the caller parses the body instead.
 */

export type FieldScan = { kind: 'absent' } | { kind: 'string'; value: string } | { kind: 'null' } | { kind: 'unknown' };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Bytes searched at each end of the text. */
export const FIELD_WINDOW_BYTES = 16 * 1024;

/** Occurrences of the key checked before giving up (each check walks up to a window). */
const MAX_CANDIDATES = 4;

const UNKNOWN: FieldScan = { kind: 'unknown' };

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(bytes: Uint8Array, i: number): number {
  while (i < bytes.length && isSpace(bytes[i])) i++;
  return i;
}

/** Index just past the string token starting at the quote `start`, or -1 when it does not end. */
function stringEnd(bytes: Uint8Array, start: number): number {
  for (let i = start + 1; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return -1;
}

/**
 * Nesting depth change from `from` to `to` (exclusive), starting outside any string; NaN when `to`
 * falls inside a string (the candidate was not a token).
 */
function depthChange(bytes: Uint8Array, from: number, to: number): number {
  let depth = 0;
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (end === -1 || end > to) return Number.NaN;
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return depth;
}

/**
 * Whether the byte at `at` is preceded by an even (not escaped) or odd number of backslashes; a run
 * reaching the start of a window cannot be told.
 */
function precededByBackslashes(bytes: Uint8Array, at: number): 'even' | 'odd' | 'unknown' {
  let i = at - 1;
  while (i >= 0 && bytes[i] === BACKSLASH) i--;
  if (i < 0 && at > 0) return 'unknown';
  return (at - 1 - i) % 2 === 0 ? 'even' : 'odd';
}

/** The text ends with the top-level object's closing brace (and whitespace). */
function closesLast(bytes: Uint8Array): boolean {
  let i = bytes.length - 1;
  while (i >= 0 && isSpace(bytes[i])) i--;
  return bytes[i] === CLOSE_BRACE;
}

/** Positions of `needle` in `bytes`, last first. */
function* occurrences(bytes: Buffer, needle: Buffer): Generator<number> {
  for (let at = bytes.lastIndexOf(needle); at >= 0; at = at === 0 ? -1 : bytes.lastIndexOf(needle, at - 1)) yield at;
}

/**
 * The value of `key` among the members of the top-level object `bytes` holds (UTF-8 JSON text), as
 * found within {@link FIELD_WINDOW_BYTES} of either end: the last such member wins, as with
 * `JSON.parse`. Only keys written without escapes are seen.
 */
export function topLevelField(bytes: Uint8Array, key: string): FieldScan {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (text.length <= 2 * FIELD_WINDOW_BYTES) return scanEnds(text, undefined, key);
  return scanEnds(text.subarray(0, FIELD_WINDOW_BYTES), text.subarray(text.length - FIELD_WINDOW_BYTES), key);
}

/** {@link topLevelField} of a text received in `chunks` (`length` bytes in all), without joining them. */
export function topLevelFieldOfChunks(chunks: readonly Buffer[], length: number, key: string): FieldScan {
  if (length <= 2 * FIELD_WINDOW_BYTES) return scanEnds(Buffer.concat(chunks, length), undefined, key);
  return scanEnds(firstBytes(chunks, FIELD_WINDOW_BYTES), lastBytes(chunks, FIELD_WINDOW_BYTES), key);
}

function firstBytes(chunks: readonly Buffer[], n: number): Buffer {
  const taken: Buffer[] = [];
  let size = 0;
  for (const chunk of chunks) {
    if (size >= n) break;
    taken.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(taken, Math.min(n, size));
}

function lastBytes(chunks: readonly Buffer[], n: number): Buffer {
  const taken: Buffer[] = [];
  let size = 0;
  for (let i = chunks.length - 1; i >= 0 && size < n; i--) {
    taken.unshift(chunks[i]!);
    size += chunks[i]!.length;
  }
  const joined = Buffer.concat(taken, size);
  return joined.subarray(Math.max(0, size - n));
}

/**
 * The scan over the text's first bytes `head` and last bytes `tail` (undefined: `head` is the
 * whole text). A candidate's depth is walked within its own window: from the start of `head` to it,
 * or from it to the end of `tail`; one that cannot be judged within its window is skipped.
 */
function scanEnds(head: Buffer, tail: Buffer | undefined, key: string): FieldScan {
  const start = skipSpace(head, 0);
  if (head[start] !== OPEN_BRACE) return UNKNOWN;
  const needle = Buffer.from(JSON.stringify(key));
  let candidates = 0;
  // The tail first (a later member overrides an earlier one), then the head.
  const windows: [Buffer, 'head' | 'tail' | 'whole'][] =
    tail === undefined
      ? [[head, 'whole']]
      : [
          [tail, 'tail'],
          [head, 'head'],
        ];
  for (const [window, part] of windows) {
    for (const at of occurrences(window, needle)) {
      if (part !== 'tail' && at <= start) continue;
      const colon = skipSpace(window, at + needle.length);
      if (window[colon] !== COLON || precededByBackslashes(window, at) !== 'even') continue;
      if (++candidates > MAX_CANDIDATES) return UNKNOWN;
      // A member of the top-level object sits at depth 1: walk to the nearer end to see (a
      // candidate inside a string walks to NaN, which is no depth).
      const fromStart = part === 'head' || (part === 'whole' && at - start <= window.length - colon);
      const topLevel = fromStart ? depthChange(window, start, at) === 1 : depthChange(window, colon + 1, window.length) === -1 && closesLast(window);
      if (topLevel) return valueAt(window, skipSpace(window, colon + 1)) ?? UNKNOWN;
    }
  }
  return { kind: 'absent' };
}

/** The string or null value starting at `at`; undefined for any other value. */
function valueAt(bytes: Uint8Array, at: number): FieldScan | undefined {
  if (bytes[at] === QUOTE) {
    const end = stringEnd(bytes, at);
    if (end === -1) return undefined;
    try {
      const value: unknown = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString('utf8'));
      return typeof value === 'string' ? { kind: 'string', value } : undefined;
    } catch {
      return undefined;
    }
  }
  if (bytes[at] === 0x6e && bytes[at + 1] === 0x75 && bytes[at + 2] === 0x6c && bytes[at + 3] === 0x6c) return { kind: 'null' };
  return undefined;
}
