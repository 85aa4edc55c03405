import { describe, expect, it } from 'vitest';
import { parseConfigureForm, parseCreateIndexForm, parseDeleteForm, parseQueryForm, parseTags, parseUpsertForm, parseVectorText } from './forms.ts';

const create = { name: 'docs', dimension: '3', metric: 'cosine', deletionProtection: 'disabled', tags: '' };
const query = { mode: 'vector', vector: '[1, 2, 3]', id: '', topK: '5', filter: '', includeValues: false };

describe('create index form (core createIndexSchema)', () => {
  it('accepts a valid form and parses tags', () => {
    expect(parseCreateIndexForm({ ...create, tags: 'team=search, env=dev' })).toEqual({
      ok: true,
      value: { name: 'docs', dimension: 3, metric: 'cosine', deletionProtection: 'disabled', tags: { team: 'search', env: 'dev' } },
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
