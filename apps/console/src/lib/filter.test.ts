import { describe, expect, it } from 'vitest';
import { parseFilterText } from './filter.ts';

describe('filter editor (core validateFilter)', () => {
  it('treats empty text as no filter', () => {
    expect(parseFilterText('  ')).toEqual({ ok: true, filter: undefined });
  });
  it('accepts the filter language', () => {
    const text = '{"$and": [{"genre": {"$in": ["drama", "comedy"]}}, {"year": {"$gte": 2000}}], "draft": false}';
    expect(parseFilterText(text)).toEqual({ ok: true, filter: JSON.parse(text) });
  });
  it('reports JSON syntax errors', () => {
    expect(parseFilterText('{"genre": ')).toMatchObject({ ok: false, error: expect.stringMatching(/^not valid JSON/) });
  });
  it('reports invalid filters with the path of the problem', () => {
    const result = parseFilterText('{"year": {"$gte": "x"}}');
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^year\.\$gte: /) });
    expect(parseFilterText('[1]')).toMatchObject({ ok: false, error: expect.stringMatching(/must be an object/) });
    expect(parseFilterText('{"$or": []}').ok).toBe(false);
    expect(parseFilterText('{"genre": {"$regex": "x"}}').ok).toBe(false);
  });
});
