import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { LIMITS, type Limits } from './limits.ts';
import { configureIndexSchema, createIndexSchema, indexShape, tagsSchema } from './index-schemas.ts';
import {
  createNamespaceSchema,
  deleteSchema,
  fetchByMetadataSchema,
  fetchSchema,
  indexedFieldsOf,
  listSchema,
  querySchema,
  updateSchema,
  upsertSchema,
} from './request-schemas.ts';
import { FLOAT32_OVERFLOW, namespaceSchema } from './schemas.ts';
import { formatIssues, formatPath } from './issue-format.ts';

/** The issues of a failed parse, as the API renders them ("records[3].values: must have ..."). */
function failure(schema: z.ZodType, input: unknown): string {
  const result = schema.safeParse(input);
  expect(result.success, `expected ${JSON.stringify(input)?.slice(0, 80)} to be rejected`).toBe(false);
  return formatIssues(result.error!.issues);
}

function parsed<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new Error(`expected success, got: ${formatIssues(result.error.issues)}`);
  return result.data;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `id-${i}`);
const record = (overrides: Record<string, unknown> = {}) => ({ id: 'r1', values: [0.1, 0.2], ...overrides });
const upsert = (records: unknown[]) => ({ index: 'movies', records });
const query = (overrides: Record<string, unknown> = {}) => ({ index: 'movies', topK: 10, vector: [0.1, 0.2], ...overrides });
/** Metadata whose JSON is exactly `bytes` long: {"k":"xxx..."} is the string plus 8 bytes. */
const metadataOfBytes = (bytes: number, char = 'x') => ({ k: char.repeat((bytes - 8) / new TextEncoder().encode(char).length) });

interface Boundary {
  schema: z.ZodType;
  /** Input exactly at the limit: accepted. */
  at: unknown;
  /** Input one step past it: rejected. */
  past: unknown;
  /** Formatted path of the issue, e.g. "records[0].values". */
  path: string;
}

/**
 * One entry per limit, so adding a limit to LIMITS without a test here fails to compile. Each
 * checks the value at the limit passes, and one past it fails naming the field and the number.
 */
const BOUNDARIES: Record<keyof Limits, Boundary | { enforcedBy: string }> = {
  maxUpsertRecords: {
    schema: upsertSchema,
    at: upsert(ids(LIMITS.maxUpsertRecords).map((id) => record({ id }))),
    past: upsert(ids(LIMITS.maxUpsertRecords + 1).map((id) => record({ id }))),
    path: 'records',
  },
  minIdLength: { schema: upsertSchema, at: upsert([record({ id: 'a' })]), past: upsert([record({ id: '' })]), path: 'records[0].id' },
  maxIdLength: {
    schema: upsertSchema,
    at: upsert([record({ id: 'i'.repeat(LIMITS.maxIdLength) })]),
    past: upsert([record({ id: 'i'.repeat(LIMITS.maxIdLength + 1) })]),
    path: 'records[0].id',
  },
  // Records may carry no values (a sparse index's do): the lower bound is the index's dimension.
  minDimension: { schema: createIndexSchema, at: { name: 'movies', dimension: 1 }, past: { name: 'movies', dimension: 0 }, path: 'dimension' },
  maxDimension: {
    schema: upsertSchema,
    at: upsert([record({ values: new Array(LIMITS.maxDimension).fill(0.5) })]),
    past: upsert([record({ values: new Array(LIMITS.maxDimension + 1).fill(0.5) })]),
    path: 'records[0].values',
  },
  maxMetadataBytes: {
    schema: upsertSchema,
    at: upsert([record({ metadata: metadataOfBytes(LIMITS.maxMetadataBytes) })]),
    past: upsert([record({ metadata: metadataOfBytes(LIMITS.maxMetadataBytes + 1) })]),
    path: 'records[0].metadata',
  },
  maxSparseValues: {
    schema: upsertSchema,
    at: upsert([record({ sparseValues: { indices: ids(LIMITS.maxSparseValues).map((_, i) => i), values: new Array(LIMITS.maxSparseValues).fill(0.5) } })]),
    past: upsert([
      record({ sparseValues: { indices: ids(LIMITS.maxSparseValues + 1).map((_, i) => i), values: new Array(LIMITS.maxSparseValues + 1).fill(0.5) } }),
    ]),
    path: 'records[0].sparseValues',
  },
  maxSparseIndex: {
    schema: upsertSchema,
    at: upsert([record({ sparseValues: { indices: [LIMITS.maxSparseIndex], values: [1] } })]),
    past: upsert([record({ sparseValues: { indices: [LIMITS.maxSparseIndex + 1], values: [1] } })]),
    path: 'records[0].sparseValues.indices[0]',
  },
  maxFetchByMetadataLimit: {
    schema: fetchByMetadataSchema,
    at: { index: 'movies', filter: { genre: 'drama' }, limit: LIMITS.maxFetchByMetadataLimit },
    past: { index: 'movies', filter: { genre: 'drama' }, limit: LIMITS.maxFetchByMetadataLimit + 1 },
    path: 'limit',
  },
  defaultFetchByMetadataLimit: { enforcedBy: 'fetchByMetadataSchema’s default (checked below)' },
  minTopK: { schema: querySchema, at: query({ topK: 1 }), past: query({ topK: 0 }), path: 'topK' },
  maxTopK: { schema: querySchema, at: query({ topK: LIMITS.maxTopK }), past: query({ topK: LIMITS.maxTopK + 1 }), path: 'topK' },
  maxInValues: {
    schema: querySchema,
    at: query({ filter: { genre: { $in: ids(LIMITS.maxInValues) } } }),
    past: query({ filter: { genre: { $in: ids(LIMITS.maxInValues + 1) } } }),
    path: 'filter.genre.$in',
  },
  maxFilterDepth: {
    schema: querySchema,
    at: query({ filter: nestAnd(LIMITS.maxFilterDepth) }),
    past: query({ filter: nestAnd(LIMITS.maxFilterDepth + 1) }),
    path: `filter${'.$and[0]'.repeat(LIMITS.maxFilterDepth + 1)}`,
  },
  maxRequestBytes: { enforcedBy: 'the HTTP server (request body size), not the zod schemas' },
  maxIdsPerRequest: {
    schema: fetchSchema,
    at: { index: 'movies', ids: ids(LIMITS.maxIdsPerRequest) },
    past: { index: 'movies', ids: ids(LIMITS.maxIdsPerRequest + 1) },
    path: 'ids',
  },
  maxListLimit: {
    schema: listSchema,
    at: { index: 'movies', limit: LIMITS.maxListLimit },
    past: { index: 'movies', limit: LIMITS.maxListLimit + 1 },
    path: 'limit',
  },
  defaultListLimit: { enforcedBy: 'listSchema’s default (checked below)' },
  maxNamespaceLength: {
    schema: fetchSchema,
    at: { index: 'movies', namespace: 'n'.repeat(LIMITS.maxNamespaceLength), ids: ['a'] },
    past: { index: 'movies', namespace: 'n'.repeat(LIMITS.maxNamespaceLength + 1), ids: ['a'] },
    path: 'namespace',
  },
  maxIndexNameLength: {
    schema: createIndexSchema,
    at: { name: 'a'.repeat(LIMITS.maxIndexNameLength), dimension: 8 },
    past: { name: 'a'.repeat(LIMITS.maxIndexNameLength + 1), dimension: 8 },
    path: 'name',
  },
  maxTagKeyLength: {
    schema: createIndexSchema,
    at: { name: 'movies', dimension: 8, tags: { ['k'.repeat(LIMITS.maxTagKeyLength)]: 'v' } },
    past: { name: 'movies', dimension: 8, tags: { ['k'.repeat(LIMITS.maxTagKeyLength + 1)]: 'v' } },
    path: `tags.${'k'.repeat(LIMITS.maxTagKeyLength + 1)}`,
  },
  maxTagValueLength: {
    schema: createIndexSchema,
    at: { name: 'movies', dimension: 8, tags: { team: 'v'.repeat(LIMITS.maxTagValueLength) } },
    past: { name: 'movies', dimension: 8, tags: { team: 'v'.repeat(LIMITS.maxTagValueLength + 1) } },
    path: 'tags.team',
  },
};

function nestAnd(levels: number): object {
  return levels === 0 ? { genre: 'drama' } : { $and: [nestAnd(levels - 1)] };
}

describe('every limit in LIMITS', () => {
  const boundaries = Object.entries(BOUNDARIES).filter((entry): entry is [keyof Limits, Boundary] => 'schema' in entry[1]);

  it.each(boundaries)('%s: the limit passes, one past it fails naming the field and the limit', (name, b) => {
    expect(b.schema.safeParse(b.at).success).toBe(true);
    const message = failure(b.schema, b.past);
    expect(message.startsWith(`${b.path}: `) || message.includes(`; ${b.path}: `), message).toBe(true);
    expect(message).toContain(String(LIMITS[name]));
  });

  it('defaults the fetch-by-metadata page size to defaultFetchByMetadataLimit', () => {
    expect(parsed(fetchByMetadataSchema, { index: 'movies', filter: { a: 1 } }).limit).toBe(LIMITS.defaultFetchByMetadataLimit);
  });

  it('rejects malformed sparse vectors naming the problem', () => {
    expect(failure(upsertSchema, upsert([record({ sparseValues: { indices: [1, 2], values: [1] } })]))).toContain('same length');
    expect(failure(upsertSchema, upsert([record({ sparseValues: { indices: [3, 3], values: [1, 2] } })]))).toContain('appears twice');
    expect(failure(upsertSchema, upsert([record({ sparseValues: { indices: [1.5], values: [1] } })]))).toContain('records[0].sparseValues.indices[0]');
    expect(failure(upsertSchema, upsert([record({ sparseValues: { indices: [1], values: [1e39] } })]))).toContain('float32');
  });

  it('needs exactly one of id and filter on update', () => {
    expect(failure(updateSchema, { index: 'movies', setMetadata: { a: 1 } })).toContain('exactly one of id or filter');
    expect(failure(updateSchema, { index: 'movies', id: 'a', filter: { a: 1 }, setMetadata: { a: 1 } })).toContain('exactly one of id or filter');
    expect(parsed(updateSchema, { index: 'movies', filter: { a: 1 }, setMetadata: { b: 2 } }).filter).toEqual({ a: 1 });
  });

  it('defaults the list page size to defaultListLimit', () => {
    expect(parsed(listSchema, { index: 'movies' }).limit).toBe(LIMITS.defaultListLimit);
  });
});

describe('upsert', () => {
  it('needs at least one record', () => {
    expect(failure(upsertSchema, upsert([]))).toBe('records: must hold at least 1 record');
  });

  it('rejects ids that are not ASCII, or contain NUL', () => {
    expect(failure(upsertSchema, upsert([record({ id: 'café' })]))).toBe('records[0].id: must contain only ASCII characters other than NUL');
    expect(failure(upsertSchema, upsert([record({ id: 'a\u0000b' })]))).toContain('records[0].id:');
    expect(failure(upsertSchema, upsert([record({ id: 7 })]))).toBe('records[0].id: must be a string');
    expect(parsed(upsertSchema, upsert([record({ id: 'doc#1 (v2)/chunk~3' })])).records[0]!.id).toBe('doc#1 (v2)/chunk~3');
  });

  it('reports the dimension it got', () => {
    const values = new Array(LIMITS.maxDimension + 1).fill(0.5);
    expect(failure(upsertSchema, upsert([record({ values })]))).toBe(
      `records[0].values: must have at most ${LIMITS.maxDimension} dimensions (got ${values.length})`,
    );
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['a string', '0.5'],
    ['null', null],
    ['beyond float32 (1e39)', 1e39],
    ['beyond float32 (-1e39)', -1e39],
  ])('rejects %s among the values, naming its index', (_label, bad) => {
    expect(failure(upsertSchema, upsert([record({ values: [0.1, 0.2, bad] })]))).toBe('records[0].values[2]: must be a finite number within float32 range');
  });

  it('accepts the float32 extremes', () => {
    const extremes = [3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, 0, -0];
    expect(parsed(upsertSchema, upsert([record({ values: extremes })])).records[0]!.values).toEqual(extremes);
  });

  it('accepts every number that is stored as a finite float32, as a fetch returns it', () => {
    // 3.4028235e38 is how the largest float32 is written back (its shortest decimal), and is
    // larger than that float32 read as a double: it must still be accepted.
    const written = [3.4028235e38, -3.4028235e38, FLOAT32_OVERFLOW - 2 ** 75];
    expect(parsed(upsertSchema, upsert([record({ values: written })])).records[0]!.values).toEqual(written);
    expect(parsed(upsertSchema, upsert([record({ sparseValues: { indices: [1], values: [3.4028235e38] } })])).records[0]!.sparseValues).toEqual({
      indices: [1],
      values: [3.4028235e38],
    });
    for (const overflow of [FLOAT32_OVERFLOW, -FLOAT32_OVERFLOW]) {
      expect(failure(upsertSchema, upsert([record({ values: [overflow, 0] })]))).toBe('records[0].values[0]: must be a finite number within float32 range');
    }
  });

  it('rejects values that are not an array', () => {
    expect(failure(upsertSchema, upsert([record({ values: 'abc' })]))).toBe('records[0].values: must be an array of numbers');
    // Omitted values are none (a sparse index's records); the engine refuses them on a dense index.
    expect(parsed(upsertSchema, upsert([record({ values: undefined })])).records[0]!.values).toEqual([]);
  });

  it('names the failing record among many', () => {
    const records = ids(5).map((id) => record({ id }));
    records[3] = record({ id: 'bad', values: [1, Number.NaN] });
    expect(failure(upsertSchema, upsert(records))).toBe('records[3].values[1]: must be a finite number within float32 range');
  });

  describe('metadata', () => {
    const withMetadata = (metadata: unknown) => upsert([record({ metadata })]);

    it('accepts strings, numbers, booleans and lists of strings', () => {
      const metadata = { genre: 'drama', year: 2020, rating: 7.5, classic: false, tags: ['a', 'b'], none: [] };
      expect(parsed(upsertSchema, withMetadata(metadata)).records[0]!.metadata).toEqual(metadata);
    });

    it('counts the 40 KB limit in bytes of JSON, not characters', () => {
      expect(JSON.stringify(metadataOfBytes(LIMITS.maxMetadataBytes, 'é')).length).toBeLessThan(LIMITS.maxMetadataBytes);
      expect(upsertSchema.safeParse(withMetadata(metadataOfBytes(LIMITS.maxMetadataBytes, 'é'))).success).toBe(true);
      expect(failure(upsertSchema, withMetadata(metadataOfBytes(LIMITS.maxMetadataBytes + 2, 'é')))).toBe(
        `records[0].metadata: must be at most ${LIMITS.maxMetadataBytes} bytes as JSON (got ${LIMITS.maxMetadataBytes + 2})`,
      );
    });

    it.each([
      ['null', { genre: null }, 'records[0].metadata.genre'],
      ['a nested object', { address: { city: 'Paris' } }, 'records[0].metadata.address'],
      ['a list of numbers', { scores: [1, 2] }, 'records[0].metadata.scores'],
      ['a mixed list', { tags: ['a', 1] }, 'records[0].metadata.tags'],
      ['NaN', { n: Number.NaN }, 'records[0].metadata.n'],
    ])('rejects %s as a value, naming the key', (_label, metadata, path) => {
      expect(failure(upsertSchema, withMetadata(metadata))).toMatch(new RegExp(`^${path.replace(/[.[\]$]/g, '\\$&')}: `));
    });

    it('rejects keys starting with $, and empty keys', () => {
      expect(failure(upsertSchema, withMetadata({ $genre: 'drama' }))).toBe("records[0].metadata.$genre: metadata keys must not start with '$'");
      expect(failure(upsertSchema, withMetadata({ '': 'x' }))).toContain('metadata keys must not be empty');
    });

    it('rejects an own __proto__ key, naming it, whatever its value (a record schema would drop it unchecked)', () => {
      for (const text of ['{"__proto__": "x", "genre": "drama"}', '{"__proto__": {"nested": {"deep": 1}}}']) {
        expect(failure(upsertSchema, withMetadata(JSON.parse(text)))).toBe("records[0].metadata.__proto__: metadata keys must not be '__proto__'");
      }
      expect(parsed(upsertSchema, withMetadata({ proto: 'x' })).records[0]!.metadata).toEqual({ proto: 'x' });
    });

    it('rejects metadata that is not a flat object', () => {
      expect(failure(upsertSchema, withMetadata(['a']))).toBe('records[0].metadata: must be a flat object');
      expect(failure(upsertSchema, withMetadata('genre=drama'))).toBe('records[0].metadata: must be a flat object');
    });
  });
});

describe('query', () => {
  it.each([
    ['0', 0, `must be ${LIMITS.minTopK}–${LIMITS.maxTopK}`],
    ['non-integer', 2.5, 'must be an integer'],
    ['a string', '10', 'must be a number'],
  ])('rejects topK %s', (_label, topK, message) => {
    expect(failure(querySchema, query({ topK }))).toBe(`topK: ${message}`);
  });

  it('accepts topK 1 and 10000', () => {
    expect(parsed(querySchema, query({ topK: 1 })).topK).toBe(1);
    expect(parsed(querySchema, query({ topK: 10_000 })).topK).toBe(10_000);
  });

  it('needs exactly one of vector or id', () => {
    expect(parsed(querySchema, query()).vector).toEqual([0.1, 0.2]);
    expect(parsed(querySchema, query({ vector: undefined, id: 'r1' })).id).toBe('r1');
    expect(failure(querySchema, query({ vector: undefined }))).toBe('vector: exactly one of vector (or sparseVector) or id must be given');
    expect(failure(querySchema, query({ id: 'r1' }))).toBe('vector: exactly one of vector (or sparseVector) or id must be given');
    // A sparse index is queried by its sparse vector alone.
    expect(parsed(querySchema, query({ vector: undefined, sparseVector: { indices: [1], values: [0.5] } })).sparseVector).toEqual({
      indices: [1],
      values: [0.5],
    });
  });

  it('checks the query vector like an upserted one', () => {
    expect(failure(querySchema, query({ vector: new Array(20_001).fill(1) }))).toContain('vector: must have at most 20000 dimensions');
    expect(failure(querySchema, query({ vector: [1, 1e39] }))).toBe('vector[1]: must be a finite number within float32 range');
  });

  it('validates the filter, naming the path inside it', () => {
    expect(failure(querySchema, query({ filter: { genre: { $regex: 'x' } } }))).toBe('filter.genre.$regex: unknown operator $regex');
    expect(failure(querySchema, query({ filter: { $gt: 1 } }))).toContain('filter.$gt: ');
  });

  it('defaults includeValues and includeMetadata to false', () => {
    expect(parsed(querySchema, query())).toMatchObject({ includeValues: false, includeMetadata: false, namespace: '' });
  });
});

describe('fetch and delete', () => {
  it('fetch needs 1–1000 ids', () => {
    expect(failure(fetchSchema, { index: 'movies', ids: [] })).toBe('ids: must hold at least 1 id');
    expect(failure(fetchSchema, { index: 'movies', ids: ['ok', ''] })).toBe(`ids[1]: must be 1–${LIMITS.maxIdLength} characters`);
  });

  it('delete needs exactly one of ids, deleteAll: true or filter', () => {
    const base = { index: 'movies' };
    expect(parsed(deleteSchema, { ...base, ids: ['a'] }).ids).toEqual(['a']);
    expect(parsed(deleteSchema, { ...base, deleteAll: true }).deleteAll).toBe(true);
    expect(parsed(deleteSchema, { ...base, filter: { genre: 'drama' } }).filter).toEqual({ genre: 'drama' });
    expect(parsed(deleteSchema, { ...base, ids: ['a'], deleteAll: false }).ids).toEqual(['a']);
    const message = 'ids: exactly one of ids, deleteAll: true or filter must be given';
    expect(failure(deleteSchema, base)).toBe(message);
    expect(failure(deleteSchema, { ...base, deleteAll: false })).toBe(message);
    expect(failure(deleteSchema, { ...base, ids: ['a'], deleteAll: true })).toBe(message);
    expect(failure(deleteSchema, { ...base, ids: ['a'], filter: { genre: 'drama' } })).toBe(message);
    expect(failure(deleteSchema, { ...base, deleteAll: true, filter: { genre: 'drama' } })).toBe(message);
  });

  it('delete limits ids like fetch', () => {
    expect(failure(deleteSchema, { index: 'movies', ids: ids(LIMITS.maxIdsPerRequest + 1) })).toBe(
      `ids: must hold at most ${LIMITS.maxIdsPerRequest} ids per request`,
    );
  });

  it('update needs values or setMetadata', () => {
    expect(failure(updateSchema, { index: 'movies', id: 'r1' })).toBe('values: an update needs values, sparseValues or setMetadata');
    expect(parsed(updateSchema, { index: 'movies', id: 'r1', setMetadata: { a: 1 } }).setMetadata).toEqual({ a: 1 });
  });
});

describe('names', () => {
  it.each(['a', 'movies', 'my-index-2', '0', 'a'.repeat(45)])('accepts index name %s', (name) => {
    expect(parsed(createIndexSchema, { name, dimension: 8 }).name).toBe(name);
  });

  it.each(['', 'Movies', '-movies', 'movies-', 'my_index', 'my.index', 'mövies', 'a'.repeat(46)])('rejects index name %j', (name) => {
    expect(failure(createIndexSchema, { name, dimension: 8 })).toMatch(/^name: /);
  });

  it('createIndex defaults metric and deletion protection, and bounds the dimension', () => {
    expect(parsed(createIndexSchema, { name: 'movies', dimension: 8 })).toMatchObject({ deletionProtection: 'disabled', vectorType: 'dense' });
    expect(indexShape(parsed(createIndexSchema, { name: 'movies', dimension: 8 }))).toEqual({ dimension: 8, metric: 'cosine', vectorType: 'dense' });
    expect(failure(createIndexSchema, { name: 'movies' })).toBe('dimension: required for a dense index');
    expect(failure(createIndexSchema, { name: 'movies', dimension: 0 })).toBe('dimension: must be 1–20000');
    expect(failure(createIndexSchema, { name: 'movies', dimension: 20_001 })).toBe('dimension: must be at most 20000');
    expect(failure(createIndexSchema, { name: 'movies', dimension: 1.5 })).toBe('dimension: must be an integer');
    expect(failure(createIndexSchema, { name: 'movies', dimension: 8, metric: 'manhattan' })).toBe('metric: must be one of cosine, euclidean, dotproduct');
  });

  it('createIndex takes sparse indexes: no dimension, dotproduct only', () => {
    expect(indexShape(parsed(createIndexSchema, { name: 'words', vectorType: 'sparse' }))).toEqual({
      dimension: 0,
      metric: 'dotproduct',
      vectorType: 'sparse',
    });
    expect(failure(createIndexSchema, { name: 'words', vectorType: 'sparse', dimension: 8 })).toBe('dimension: a sparse index has no dimension; omit it');
    expect(failure(createIndexSchema, { name: 'words', vectorType: 'sparse', metric: 'cosine' })).toBe(
      'metric: a sparse index scores by dotproduct only; got cosine',
    );
    expect(failure(createIndexSchema, { name: 'words', vectorType: 'lexical' })).toBe('vectorType: must be one of dense, sparse');
  });

  it('tag values are text the control database can store: no NUL, no unpaired surrogate', () => {
    expect(failure(configureIndexSchema, { name: 'movies', tags: { team: 'a\u0000b' } })).toBe(
      'tags.team: tag values must be valid Unicode without NUL characters',
    );
    expect(failure(configureIndexSchema, { name: 'movies', tags: { team: 'a\ud800' } })).toBe(
      'tags.team: tag values must be valid Unicode without NUL characters',
    );
    expect(parsed(configureIndexSchema, { name: 'movies', tags: { team: 'ünï 😀' } }).tags).toEqual({ team: 'ünï 😀' });
  });

  it('tag keys allow only alphanumerics, _ and -', () => {
    expect(failure(configureIndexSchema, { name: 'movies', tags: { 'bad key': 'v' } })).toBe(
      "tags.bad key: tag keys may contain only alphanumerics, '_' and '-'",
    );
    expect(parsed(configureIndexSchema, { name: 'movies', tags: { 'team_a-1': '' } }).tags).toEqual({ 'team_a-1': '' });
  });

  it('tags must be an object of strings', () => {
    for (const tags of ['team=search', null, ['a'], 5]) expect(failure(tagsSchema, tags)).toBe('must be an object of strings');
    expect(failure(configureIndexSchema, { name: 'movies', tags: 'team=search' })).toBe('tags: must be an object of strings');
    expect(failure(configureIndexSchema, { name: 'movies', tags: { team: 1 } })).toBe('tags.team: tag values must be strings');
  });

  it('tags refuse an own __proto__ key, naming it (a record schema would drop it unchecked)', () => {
    const tags = JSON.parse('{"__proto__":"x","a":"b"}') as unknown;
    expect(failure(tagsSchema, tags)).toBe("__proto__: tag keys must not be '__proto__'");
    expect(failure(createIndexSchema, { name: 'movies', dimension: 8, tags })).toBe("tags.__proto__: tag keys must not be '__proto__'");
    expect(failure(configureIndexSchema, { name: 'movies', tags })).toBe("tags.__proto__: tag keys must not be '__proto__'");
    expect(parsed(tagsSchema, JSON.parse('{"a":"b","team":"search"}'))).toEqual({ a: 'b', team: 'search' });
    expect(parsed(configureIndexSchema, { name: 'movies', tags: { a: 'b' } }).tags).toEqual({ a: 'b' });
  });

  it('namespace: absent, "" and "__default__" all name the default namespace', () => {
    expect(parsed(namespaceSchema, undefined)).toBe('');
    expect(parsed(namespaceSchema, '')).toBe('');
    expect(parsed(namespaceSchema, '__default__')).toBe('');
    expect(parsed(namespaceSchema, 'tenant-1')).toBe('tenant-1');
    expect(parsed(fetchSchema, { index: 'movies', namespace: '__default__', ids: ['a'] }).namespace).toBe('');
  });

  it('namespace: at most 512 printable ASCII characters, not only spaces', () => {
    expect(parsed(namespaceSchema, 'n'.repeat(512))).toHaveLength(512);
    expect(parsed(namespaceSchema, ' a/b c~! ')).toBe(' a/b c~! ');
    expect(failure(namespaceSchema, 'n'.repeat(513))).toBe('must be at most 512 characters');
    const notPrintable = 'must contain only printable ASCII characters (space to ~)';
    expect(failure(namespaceSchema, 'ünïcode')).toBe(notPrintable);
    expect(failure(namespaceSchema, 'a\u0000')).toBe(notPrintable);
    expect(failure(namespaceSchema, 'tab\there')).toBe(notPrintable);
    expect(failure(namespaceSchema, '\x7f')).toBe(notPrintable);
    // Only the not-printable message, not also "blank", for control characters that trim() removes.
    expect(failure(namespaceSchema, '\t\n')).toBe(notPrintable);
    expect(failure(namespaceSchema, ' ')).toBe('must not be blank (only spaces)');
    expect(failure(fetchSchema, { index: 'movies', namespace: '   ', ids: ['a'] })).toBe('namespace: must not be blank (only spaces)');
  });

  it('create namespace: a name other than the default, and an optional object schema', () => {
    const create = (overrides: Record<string, unknown>) => ({ index: 'movies', namespace: 'tenant-1', ...overrides });
    // Read as stored: unknown keys dropped, a field without `filterable` not filterable, fields in name order.
    const schema = parsed(createNamespaceSchema, create({ schema: { fields: { year: {}, genre: { filterable: true, x: 1 } }, extra: 1 } })).schema;
    expect(schema).toEqual({ fields: { genre: { filterable: true }, year: { filterable: false } } });
    expect(Object.keys(schema!.fields)).toEqual(['genre', 'year']);
    expect(indexedFieldsOf(schema!)).toEqual(['genre']);
    expect(parsed(createNamespaceSchema, create({ schema: { fields: {} } })).schema).toEqual({ fields: {} });
    expect(failure(createNamespaceSchema, create({ schema: {} }))).toBe('schema.fields: must be an object of fields');
    expect(failure(createNamespaceSchema, create({ schema: { fields: { $year: { filterable: true } } } }))).toBe(
      "schema.fields.$year: field names must not start with '$'",
    );
    expect(failure(createNamespaceSchema, create({ schema: { fields: { '': { filterable: true } } } }))).toBe('schema.fields: field names must not be empty');
    expect(failure(createNamespaceSchema, create({ schema: JSON.parse('{"fields": {"__proto__": {"filterable": true}}}') }))).toBe(
      "schema.fields.__proto__: field names must not be '__proto__'",
    );
    expect(failure(createNamespaceSchema, create({ schema: { fields: { 'a\u0000': { filterable: true } } } }))).toContain('must be valid Unicode without NUL');
    expect(parsed(createNamespaceSchema, create({})).schema).toBeUndefined();
    expect(failure(createNamespaceSchema, create({ namespace: '' }))).toBe('namespace: must not be empty');
    expect(failure(createNamespaceSchema, create({ namespace: undefined }))).toBe('namespace: must be a string');
    expect(failure(createNamespaceSchema, create({ namespace: '  ' }))).toBe('namespace: must not be blank (only spaces)');
    expect(failure(createNamespaceSchema, create({ schema: [null, null] }))).toBe('schema: must be an object');
    expect(failure(createNamespaceSchema, create({ schema: null }))).toBe('schema: must be an object');
    expect(failure(createNamespaceSchema, create({ schema: 'x' }))).toBe('schema: must be an object');
    expect(failure(createNamespaceSchema, create({ schema: { fields: [] } }))).toBe('schema.fields: must be an object of fields');
    expect(failure(createNamespaceSchema, create({ schema: { fields: { genre: true } } }))).toBe('schema.fields.genre: must be an object');
    expect(failure(createNamespaceSchema, create({ schema: { fields: { genre: { filterable: 'yes' } } } }))).toBe(
      'schema.fields.genre.filterable: must be a boolean',
    );
  });
});

describe('formatIssues', () => {
  it('renders paths with dots and brackets', () => {
    expect(formatPath(['records', 3, 'metadata', 'tags', 0])).toBe('records[3].metadata.tags[0]');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath([])).toBe('');
  });

  it('shows at most five issues, joined by "; "', () => {
    const issues = Array.from({ length: 8 }, (_, i) => ({ path: ['f', i], message: `bad ${i}` }));
    expect(formatIssues(issues)).toBe('f[0]: bad 0; f[1]: bad 1; f[2]: bad 2; f[3]: bad 3; f[4]: bad 4');
    expect(formatIssues([{ path: [], message: 'whole request' }])).toBe('whole request');
  });
});
