import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIELD_WINDOW_BYTES, topLevelField, topLevelFieldOfChunks } from './top-level-field.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');

/** What JSON.parse says the top-level `namespace` is, in the scanner's terms. */
function truth(text: string): { kind: 'absent' } | { kind: 'string'; value: string } | { kind: 'null' } | { kind: 'other' } {
  const parsed = JSON.parse(text) as Record<string, unknown>;
  if (!Object.hasOwn(parsed, 'namespace')) return { kind: 'absent' };
  const value = parsed.namespace;
  if (typeof value === 'string') return { kind: 'string', value };
  return value === null ? { kind: 'null' } : { kind: 'other' };
}

// Strings that look like the key from inside other strings, keys and values.
const tricky = fc.constantFrom('namespace', '"namespace":', '\\"namespace\\":"x"', 'a"b', '\\', '{', '}', '[', ']', 'ns', '', '\u00e9\u4e2d');
const leaf = fc.oneof(fc.string(), tricky, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 }), tie('object')),
  object: fc.dictionary(fc.oneof(fc.string(), tricky), tie('value'), { maxKeys: 4 }),
})).value;

/** `text`'s bytes cut every `size` bytes, as a request body arrives. */
function chunked(text: string, size: number): Buffer[] {
  const all = bytes(text);
  const out: Buffer[] = [];
  for (let at = 0; at < all.length; at += size) out.push(all.subarray(at, at + size));
  return out;
}

/** The scanner says what JSON.parse says, or (only when it cannot tell) unknown; in chunks, the same. */
function expectAgreement(text: string, chunkSize = 7): void {
  const scan = topLevelField(bytes(text), 'namespace');
  expect(topLevelFieldOfChunks(chunked(text, chunkSize), bytes(text).length, 'namespace')).toEqual(scan);
  const expected = truth(text);
  // Unknown only for a value other than a string or null, or past the candidates it checks.
  const candidates = text.match(/"namespace"\s*:/g)?.length ?? 0;
  if (scan.kind === 'unknown') expect(expected.kind === 'other' || candidates > 4).toBe(true);
  else expect(scan).toEqual(expected);
}

describe('topLevelField', () => {
  it('agrees with JSON.parse on the top-level namespace of any object that fits its windows, wherever the key sits', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(fc.string(), tricky), value, { maxKeys: 5 }),
        fc.option(fc.oneof(fc.string(), tricky, fc.constant(null), fc.integer()), { nil: undefined }),
        fc.nat(),
        fc.constantFrom(undefined, 1, '\t'),
        (members, namespace, position, indent) => {
          const entries = Object.entries(members).filter(([k]) => k !== 'namespace');
          if (namespace !== undefined) entries.splice(position % (entries.length + 1), 0, ['namespace', namespace]);
          const text = JSON.stringify(Object.fromEntries(entries), null, indent);
          expectAgreement(text);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees with JSON.parse on large bodies whose namespace comes first or last, and never misreads a nested one', () => {
    const padding = Array.from({ length: 3 }, (_, i) => ({
      id: `p${i}`,
      values: Array.from({ length: 2000 }, (_, j) => j / 7),
      metadata: { namespace: 'nested' },
    }));
    fc.assert(
      fc.property(
        fc.option(fc.oneof(fc.string(), tricky), { nil: undefined }),
        fc.boolean(),
        fc.constantFrom(undefined, 1),
        fc.integer({ min: 1, max: 70_000 }),
        (namespace, first, indent, chunkSize) => {
          const body = namespace === undefined ? { vectors: padding } : first ? { namespace, vectors: padding } : { vectors: padding, namespace };
          const text = JSON.stringify(body, null, indent);
          expect(text.length).toBeGreaterThan(2 * FIELD_WINDOW_BYTES);
          expectAgreement(text, chunkSize);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds the namespace of upsert bodies as the Pinecone clients send them, and of other shapes', () => {
    const vectors = [{ id: 'a', values: [0.5, 1], metadata: { namespace: 'inner', note: '"namespace": "fake"' } }];
    expect(topLevelField(bytes(JSON.stringify({ vectors, namespace: 'ns-1' })), 'namespace')).toEqual({ kind: 'string', value: 'ns-1' });
    expect(topLevelField(bytes(JSON.stringify({ namespace: 'first', vectors })), 'namespace')).toEqual({ kind: 'string', value: 'first' });
    expect(topLevelField(bytes(JSON.stringify({ vectors })), 'namespace')).toEqual({ kind: 'absent' });
    expect(topLevelField(bytes(`  {"vectors": [], "namespace" :\n "sp ace" }  `), 'namespace')).toEqual({ kind: 'string', value: 'sp ace' });
    expect(topLevelField(bytes('{"namespace":"\\u00e9t\\u00e9"}'), 'namespace')).toEqual({ kind: 'string', value: 'été' });
    expect(topLevelField(bytes('{"namespace":null}'), 'namespace')).toEqual({ kind: 'null' });
    // Beyond the windows, a key in the middle goes unseen: a hint the writer corrects.
    const big = JSON.stringify({ a: 'x'.repeat(FIELD_WINDOW_BYTES), namespace: 'middle', b: 'y'.repeat(FIELD_WINDOW_BYTES) });
    expect(topLevelField(bytes(big), 'namespace')).toEqual({ kind: 'absent' });
    // Duplicate keys: the last wins, as in JSON.parse.
    expect(topLevelField(bytes('{"namespace":"a","namespace":"b"}'), 'namespace')).toEqual({ kind: 'string', value: 'b' });
  });

  it('says unknown for what it cannot decide cheaply', () => {
    for (const text of ['', '   ', '[1,2]', 'null', '"namespace"', '{"namespace": 5}', '{"namespace": ["a"]}', '{"namespace": "unterminated']) {
      expect(topLevelField(bytes(text), 'namespace').kind, text).toBe('unknown');
    }
    const many = JSON.stringify({ a: Array.from({ length: 6 }, () => ({ namespace: 'x' })), namespace: 'top' }).replace('"namespace":"top"', '"top":1');
    expect(topLevelField(bytes(`{"namespace":"real",${many.slice(1)}`), 'namespace')).toEqual({ kind: 'unknown' });
  });
});
