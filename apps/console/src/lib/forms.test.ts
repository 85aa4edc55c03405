import { describe, expect, it } from 'vitest';
import {
  parseConfigureForm,
  parseCreateBackupForm,
  parseCreateIndexForm,
  parseDeleteForm,
  parseQueryForm,
  parseRestoreForm,
  parseSparseFields,
  parseTags,
  parseUpsertForm,
  parseVectorText,
  takesSparse,
  type IndexShape,
} from './forms.ts';

const create = { name: 'docs', vectorType: 'dense', dimension: '3', metric: 'cosine', deletionProtection: 'disabled', tags: '' };
const sparseIndex: IndexShape = { dimension: 0, vectorType: 'sparse', metric: 'dotproduct' };
const hybridIndex: IndexShape = { dimension: 3, vectorType: 'dense', metric: 'dotproduct' };
const query = { mode: 'vector', vector: '[1, 2, 3]', id: '', topK: '5', filter: '', includeValues: false };

describe('create index form (core createIndexSchema)', () => {
  it('accepts a valid form and parses tags', () => {
    expect(parseCreateIndexForm({ ...create, tags: 'team=search, env=dev' })).toEqual({
      ok: true,
      value: { name: 'docs', vectorType: 'dense', dimension: 3, metric: 'cosine', deletionProtection: 'disabled', tags: { team: 'search', env: 'dev' } },
    });
  });
  it('defaults to a dense index and leaves the metric to the server when none is picked', () => {
    expect(parseCreateIndexForm({ ...create, vectorType: '', metric: '' })).toEqual({
      ok: true,
      value: { name: 'docs', vectorType: 'dense', dimension: 3, deletionProtection: 'disabled' },
    });
    expect(parseCreateIndexForm({ ...create, dimension: '' })).toMatchObject({ ok: false, errors: { dimension: 'required for a dense index' } });
  });
  it('creates a sparse index: no dimension, dotproduct or the default metric', () => {
    // The form disables both fields: they come as "".
    expect(parseCreateIndexForm({ ...create, vectorType: 'sparse', dimension: '', metric: '' })).toEqual({
      ok: true,
      value: { name: 'docs', vectorType: 'sparse', deletionProtection: 'disabled' },
    });
    expect(parseCreateIndexForm({ ...create, vectorType: 'sparse', dimension: ' ', metric: 'dotproduct' })).toEqual({
      ok: true,
      value: { name: 'docs', vectorType: 'sparse', metric: 'dotproduct', deletionProtection: 'disabled' },
    });
  });
  it("refuses a sparse index's dimension, a metric other than dotproduct and an unknown vector type", () => {
    expect(parseCreateIndexForm({ ...create, vectorType: 'sparse', dimension: '8', metric: '' })).toMatchObject({
      ok: false,
      errors: { dimension: 'a sparse index has no dimension; omit it' },
    });
    expect(parseCreateIndexForm({ ...create, vectorType: 'sparse', dimension: '', metric: 'cosine' })).toMatchObject({
      ok: false,
      errors: { metric: 'a sparse index scores by dotproduct only; got cosine' },
    });
    expect(parseCreateIndexForm({ ...create, vectorType: 'lexical' })).toMatchObject({
      ok: false,
      errors: { vectorType: expect.stringMatching(/dense, sparse/) },
    });
  });
  it('reports the API messages per field', () => {
    const parsed = parseCreateIndexForm({ ...create, name: 'Bad_Name', dimension: '0' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors['name']).toMatch(/lowercase alphanumeric/);
    expect(parsed.errors['dimension']).toMatch(/1–20000/);
  });
  it('rejects a missing or fractional dimension, an unknown metric and a bad tag', () => {
    expect(parseCreateIndexForm({ ...create, dimension: '' }).ok).toBe(false);
    expect(parseCreateIndexForm({ ...create, dimension: '2.5' }).ok).toBe(false);
    expect(parseCreateIndexForm({ ...create, metric: 'hamming' }).ok).toBe(false);
    expect(parseCreateIndexForm({ ...create, tags: 'bad key=x' })).toMatchObject({ ok: false, errors: { tags: expect.stringMatching(/alphanumerics/) } });
    expect(parseTags('novalue')).toMatchObject({ ok: false });
  });
});

describe('configure form', () => {
  it('keeps key= as a tag removal', () => {
    expect(parseConfigureForm('docs', { deletionProtection: 'enabled', tags: 'old=' })).toEqual({
      ok: true,
      value: { deletionProtection: 'enabled', tags: { old: '' } },
    });
  });
  it('rejects an unknown protection value', () => {
    expect(parseConfigureForm('docs', { deletionProtection: 'maybe', tags: '' }).ok).toBe(false);
  });
});

describe('vectors and upsert form', () => {
  it('reads JSON arrays and bare lists', () => {
    expect(parseVectorText('[0.5, -1, 2e-3]')).toEqual([0.5, -1, 0.002]);
    expect(parseVectorText('1 2, 3')).toEqual([1, 2, 3]);
    expect(parseVectorText('[1, x]')).toBeUndefined();
    expect(parseVectorText('')).toBeUndefined();
  });
  it('checks the dimension, the id and the metadata', () => {
    expect(parseUpsertForm({ id: 'a', values: '[1,2,3]', metadata: '{"g": "x"}' }, 3)).toEqual({
      ok: true,
      value: { id: 'a', values: [1, 2, 3], metadata: { g: 'x' } },
    });
    const bad = parseUpsertForm({ id: '', values: '[1,2]', metadata: '{"nested": {"a": 1}}' }, 3);
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors['values']).toMatch(/3 dimensions/);
    expect(bad.errors['id']).toBeDefined();
    expect(bad.errors['metadata']).toMatch(/string, number, boolean/);
    expect(parseUpsertForm({ id: 'a', values: '[1,2,3]', metadata: '{oops' }, 3)).toMatchObject({
      ok: false,
      errors: { metadata: expect.stringMatching(/not valid JSON/) },
    });
  });
});

describe('sparse vectors', () => {
  it('reads two lists of the same length', () => {
    expect(parseSparseFields('[10, 45]', '0.5, 1.5', true)).toEqual({ ok: true, value: { indices: [10, 45], values: [0.5, 1.5] } });
    expect(parseSparseFields(' ', '', false)).toEqual({ ok: true, value: undefined });
  });
  it('explains what is wrong, on the sparse field', () => {
    expect(parseSparseFields('', '', true)).toEqual({ ok: false, errors: { sparse: 'give at least one index and its value' } });
    expect(parseSparseFields('[1, x]', '[1, 2]', true)).toEqual({
      ok: false,
      errors: { sparse: expect.stringMatching(/^indices must be a list of integers/) },
    });
    expect(parseSparseFields('[1, 2]', '', true)).toEqual({ ok: false, errors: { sparse: expect.stringMatching(/^values must be a list of numbers/) } });
    expect(parseSparseFields('[1, 2]', '[1]', false)).toEqual({ ok: false, errors: { sparse: 'indices and values must have the same length (got 2 and 1)' } });
    expect(parseSparseFields('[1, 1.5]', '[1, 2]', true)).toEqual({ ok: false, errors: { sparse: 'indices[1] (1.5): must be an integer 0–4294967295' } });
    expect(parseSparseFields('[-1]', '[1]', true)).toEqual({ ok: false, errors: { sparse: 'indices[0] (-1): must be an integer 0–4294967295' } });
    expect(parseSparseFields('[3, 3]', '[1, 2]', true)).toEqual({ ok: false, errors: { sparse: 'indices[1] (3): index 3 appears twice' } });
    expect(parseSparseFields('[3]', '[1e39]', true)).toEqual({
      ok: false,
      errors: { sparse: 'values[0] (1e+39): must be a finite number within float32 range' },
    });
  });
  it('is asked for on sparse indexes, offered on dense dotproduct ones', () => {
    expect(takesSparse(sparseIndex)).toBe('required');
    expect(takesSparse(hybridIndex)).toBe('optional');
    expect(takesSparse({ dimension: 3, vectorType: 'dense', metric: 'cosine' })).toBe('no');
  });
  it('upserts a sparse record without dense values', () => {
    const fields = { id: 's1', values: '', metadata: '{"g": "x"}', sparseIndices: '[3, 7]', sparseValues: '[0.5, 2]' };
    expect(parseUpsertForm(fields, sparseIndex)).toEqual({
      ok: true,
      value: { id: 's1', sparseValues: { indices: [3, 7], values: [0.5, 2] }, metadata: { g: 'x' } },
    });
    // What the dense field holds is ignored: a sparse index has none.
    expect(parseUpsertForm({ ...fields, values: '[1, 2]' }, sparseIndex)).toMatchObject({ ok: true, value: { id: 's1' } });
    expect(parseUpsertForm({ ...fields, sparseIndices: '', sparseValues: '' }, sparseIndex)).toEqual({
      ok: false,
      errors: { sparse: 'give at least one index and its value' },
    });
  });
  it('upserts dense records with an optional sparse part on a dotproduct index', () => {
    const fields = { id: 'h1', values: '[1, 2, 3]', metadata: '', sparseIndices: '', sparseValues: '' };
    expect(parseUpsertForm(fields, hybridIndex)).toEqual({ ok: true, value: { id: 'h1', values: [1, 2, 3] } });
    expect(parseUpsertForm({ ...fields, sparseIndices: '5', sparseValues: '0.25' }, hybridIndex)).toEqual({
      ok: true,
      value: { id: 'h1', values: [1, 2, 3], sparseValues: { indices: [5], values: [0.25] } },
    });
    // A cosine index takes no sparse part: the fields are not shown, and ignored.
    expect(parseUpsertForm({ ...fields, sparseIndices: 'x' }, { ...hybridIndex, metric: 'cosine' })).toMatchObject({ ok: true });
  });
  it('queries a sparse index by a sparse vector, or by id', () => {
    const fields = { ...query, vector: '', sparseIndices: '[10, 45]', sparseValues: '[1, 2]', filter: '{"genre": "drama"}', includeValues: true };
    expect(parseQueryForm(fields, sparseIndex)).toEqual({
      ok: true,
      value: { sparseVector: { indices: [10, 45], values: [1, 2] }, topK: 5, filter: { genre: 'drama' }, includeValues: true, includeMetadata: true },
    });
    expect(parseQueryForm({ ...fields, mode: 'id', id: 'doc-1' }, sparseIndex)).toMatchObject({ ok: true, value: { id: 'doc-1' } });
    const bad = parseQueryForm({ ...fields, sparseValues: '[1]', topK: '0' }, sparseIndex);
    expect(bad).toEqual({ ok: false, errors: { topK: expect.any(String), sparse: 'indices and values must have the same length (got 2 and 1)' } });
  });
  it('adds an optional sparse part to a dense dotproduct query (hybrid)', () => {
    expect(parseQueryForm({ ...query, sparseIndices: '4', sparseValues: '0.5' }, hybridIndex)).toMatchObject({
      ok: true,
      value: { vector: [1, 2, 3], sparseVector: { indices: [4], values: [0.5] } },
    });
    expect(parseQueryForm({ ...query, sparseIndices: '', sparseValues: '' }, hybridIndex)).toEqual({
      ok: true,
      value: { vector: [1, 2, 3], topK: 5, includeValues: false, includeMetadata: true },
    });
  });
});

describe('backup forms', () => {
  it('takes an optional name and description, trimmed', () => {
    expect(parseCreateBackupForm({ name: ' nightly ', description: '' })).toEqual({ ok: true, value: { name: 'nightly' } });
    expect(parseCreateBackupForm({ name: '', description: ' before re-embedding ' })).toEqual({ ok: true, value: { description: 'before re-embedding' } });
    expect(parseCreateBackupForm({ name: '', description: '' })).toEqual({ ok: true, value: {} });
  });
  it('refuses what the server refuses: too long, control characters', () => {
    expect(parseCreateBackupForm({ name: 'x'.repeat(201), description: 'a\u0007b' })).toEqual({
      ok: false,
      errors: { name: 'must be at most 200 characters (got 201)', description: 'must not contain control characters (one line of text)' },
    });
    expect(parseCreateBackupForm({ name: '', description: 'y'.repeat(1001) })).toMatchObject({
      ok: false,
      errors: { description: expect.stringMatching(/at most 1000/) },
    });
  });
  it("checks the restored index's name as an index name", () => {
    expect(parseRestoreForm({ name: ' docs-restored ' })).toEqual({ ok: true, value: { name: 'docs-restored' } });
    expect(parseRestoreForm({ name: 'Bad_Name' })).toMatchObject({ ok: false, errors: { name: expect.stringMatching(/lowercase alphanumeric/) } });
    expect(parseRestoreForm({ name: '' })).toMatchObject({ ok: false, errors: { name: expect.any(String) } });
  });
});

describe('query form', () => {
  it('builds a vector query with a filter', () => {
    expect(parseQueryForm({ ...query, filter: '{"genre": "drama"}' }, 3)).toEqual({
      ok: true,
      value: { vector: [1, 2, 3], topK: 5, filter: { genre: 'drama' }, includeValues: false, includeMetadata: true },
    });
  });
  it('builds a similar-to-id query', () => {
    expect(parseQueryForm({ ...query, mode: 'id', id: 'doc-1' }, 3)).toMatchObject({ ok: true, value: { id: 'doc-1' } });
  });
  it('reports topK, dimension and filter problems', () => {
    const parsed = parseQueryForm({ ...query, topK: '0', vector: '[1]', filter: '{"$bad": 1}' }, 3);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(Object.keys(parsed.errors).sort()).toEqual(['filter', 'topK', 'vector']);
  });
});

describe('delete form', () => {
  it('splits ids and requires a filter in filter mode', () => {
    expect(parseDeleteForm({ mode: 'ids', ids: 'a, b\nc', filter: '' })).toEqual({ ok: true, value: { ids: ['a', 'b', 'c'] } });
    expect(parseDeleteForm({ mode: 'ids', ids: ' ', filter: '' }).ok).toBe(false);
    expect(parseDeleteForm({ mode: 'filter', ids: '', filter: '' }).ok).toBe(false);
    expect(parseDeleteForm({ mode: 'filter', ids: '', filter: '{"year": {"$lt": 2000}}' })).toEqual({ ok: true, value: { filter: { year: { $lt: 2000 } } } });
  });
});
