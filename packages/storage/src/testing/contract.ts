import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withRetries } from '../retrying-store.ts';
import { deletePrefix, listAll, ObjectStoreError, readRangeIntoOf, type ObjectMeta, type ObjectStore, type ObjectStoreErrorKind } from '../object-store.ts';

export interface ContractFixture {
  store: ObjectStore;
  cleanup?: () => Promise<void>;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : b);

/** Resolves to the error kind `promise` rejects with; fails the test if it resolves or throws anything else. */
/** The kind of the `ObjectStoreError` `promise` rejects with (the test fails on any other outcome). */
export async function rejectionKind(promise: Promise<unknown>): Promise<ObjectStoreErrorKind> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ObjectStoreError);
    return (err as ObjectStoreError).kind;
  }
  throw new Error('expected the call to fail');
}

/** Every key under `prefix`, following pages of `limit`, checking each page on the way. */
async function listByPages(store: ObjectStore, prefix: string, limit: number, startAfter?: string): Promise<string[]> {
  const keys: string[] = [];
  let after = startAfter;
  for (let pages = 0; ; pages++) {
    expect(pages).toBeLessThan(10_000);
    const page = await store.list(prefix, { limit, ...(after === undefined ? {} : { startAfter: after }) });
    expect(page.objects.length).toBeLessThanOrEqual(limit);
    keys.push(...page.objects.map((o) => o.key));
    if (page.nextStartAfter === undefined) return keys;
    after = page.nextStartAfter;
  }
}

const byteOrder = (keys: string[]) => [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * The object-store contract as a vitest suite: every adapter (memory, disk, S3, GCS, Azure) runs
 * it unchanged, so it checks only behaviour visible through `ObjectStore`, never an adapter's
 * internals. `makeStore` is called before every test; each test also works under its own random
 * prefix, so the suite can run against a shared, non-empty bucket.
 *
 * Deliberately not required: that rewriting identical bytes changes the etag (S3's ETag is the
 * content MD5), or that a key can be both an object and a prefix of other keys ("a" and "a/b" —
 * a file system cannot hold both).
 *
 * @example objectStoreContract('memory', async () => ({ store: new MemoryObjectStore() }));
 */
export function objectStoreContract(name: string, makeStore: () => Promise<ContractFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: ContractFixture;
    let store: ObjectStore;
    let base: string;
    /** A key under this test's private prefix. */
    const k = (suffix: string) => base + suffix;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
      base = `contract-${randomUUID()}/`;
    });
    afterEach(async () => {
      await fixture.cleanup?.();
    });

    describe('reads of missing keys', () => {
      it('get, getRange and head return null', async () => {
        expect(await store.get(k('missing'))).toBeNull();
        expect(await store.getRange(k('missing'), 0, 10)).toBeNull();
        expect(await store.head(k('missing'))).toBeNull();
      });

      it('a missing key under an existing one is missing, not an error', async () => {
        await store.put(k('dir/obj'), utf8('x'));
        expect(await store.get(k('dir/obj/child'))).toBeNull();
        expect(await store.head(k('dir/obj/child'))).toBeNull();
        expect(await store.get(k('dir'))).toBeNull();
        expect(await store.head(k('dir'))).toBeNull();
      });
    });

    describe('put and get', () => {
      it('round-trips bytes exactly, with matching metadata', async () => {
        const data = new Uint8Array([0, 1, 2, 127, 128, 254, 255, 10, 13, 0]);
        const meta = await store.put(k('bytes'), data);
        expect(meta).toEqual({ key: k('bytes'), size: data.length, etag: expect.any(String) });
        const body = await store.get(k('bytes'));
        expect(body?.data).toEqual(data);
        expect(body).toMatchObject({ key: k('bytes'), size: data.length, etag: meta.etag });
        expect(await store.head(k('bytes'))).toEqual(meta);
      });

      it('stores empty objects', async () => {
        const meta = await store.put(k('empty'), new Uint8Array(0));
        expect(meta.size).toBe(0);
        const body = await store.get(k('empty'));
        expect(body?.data).toEqual(new Uint8Array(0));
        expect(body?.size).toBe(0);
        expect(await store.head(k('empty'))).toEqual(meta);
        expect(await store.getRange(k('empty'), 0, 10)).toEqual(new Uint8Array(0));
      });

      it('stores a few-MB object', async () => {
        const data = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17));
        const meta = await store.put(k('big'), data);
        expect(meta.size).toBe(data.length);
        const body = await store.get(k('big'));
        expect(body?.size).toBe(data.length);
        expect(Buffer.compare(body!.data, data)).toBe(0);
      });

      it('isolates stored bytes from the caller’s buffers', async () => {
        const data = utf8('original');
        await store.put(k('isolated'), data);
        data.fill(0);
        const first = await store.get(k('isolated'));
        expect(text(first?.data)).toBe('original');
        first!.data.fill(0);
        expect(text((await store.get(k('isolated')))?.data)).toBe('original');
      });

      it('put replaces the object and changes the etag', async () => {
        const first = await store.put(k('replace'), utf8('one'));
        const second = await store.put(k('replace'), utf8('three'));
        expect(second.etag).not.toBe(first.etag);
        expect(second.size).toBe(5);
        const body = await store.get(k('replace'));
        expect(text(body?.data)).toBe('three');
        expect(body?.etag).toBe(second.etag);
        expect(await store.head(k('replace'))).toEqual(second);
      });

      it('keeps keys distinct that differ only in case or punctuation', async () => {
        // Case-insensitive file systems fold "Ab" and "ab"; an adapter there must not.
        const keys = ['Ab', 'ab', 'a.b', 'a-b', 'a_b', 'a~b'];
        for (const key of keys) await store.put(k(key), utf8(key));
        for (const key of keys) expect(text((await store.get(k(key)))?.data)).toBe(key);
      });

      it('accepts keys with many segments and keys near the 1024-character limit', async () => {
        const deep = k(Array.from({ length: 30 }, (_, i) => `s${i}`).join('/'));
        await store.put(deep, utf8('deep'));
        expect(text((await store.get(deep))?.data)).toBe('deep');
        const long = (base + 'x/'.repeat(500)).slice(0, 1020) + 'end';
        expect(long.length).toBe(1023);
        await store.put(long, utf8('long'));
        expect(text((await store.get(long))?.data)).toBe('long');
        expect((await store.list(k(''))).objects.map((o) => o.key)).toEqual(byteOrder([deep, long]));
      });
    });

    describe('getRange', () => {
      const data = utf8('0123456789');
      beforeEach(async () => {
        await store.put(k('range'), data);
      });

      it('returns the bytes [start, end)', async () => {
        expect(text(await store.getRange(k('range'), 2, 5))).toBe('234');
        expect(text(await store.getRange(k('range'), 0, 10))).toBe('0123456789');
        expect(text(await store.getRange(k('range'), 9, 10))).toBe('9');
      });

      it('clamps the end to the size', async () => {
        expect(text(await store.getRange(k('range'), 7, 1000))).toBe('789');
        expect(text(await store.getRange(k('range'), 0, Number.MAX_SAFE_INTEGER))).toBe('0123456789');
      });

      it('is empty when the range is empty or starts at or beyond the end', async () => {
        expect(await store.getRange(k('range'), 10, 20)).toEqual(new Uint8Array(0));
        expect(await store.getRange(k('range'), 50, 60)).toEqual(new Uint8Array(0));
        expect(await store.getRange(k('range'), 4, 4)).toEqual(new Uint8Array(0));
      });

      it('reads a range deep inside a large object', async () => {
        const big = new Uint8Array(randomBytes(2 * 1024 * 1024));
        await store.put(k('big-range'), big);
        const start = 1_234_567;
        expect(await store.getRange(k('big-range'), start, start + 4096)).toEqual(big.slice(start, start + 4096));
      });

      it('returns exactly the bytes of the whole read, for any range', async () => {
        // Slabs are read by range (their head, then pages of vectors): every range must be the
        // matching slice of what a whole read returns, on every backend.
        const size = 300_000;
        const object = new Uint8Array(randomBytes(size));
        await store.put(k('ranges'), object);
        const whole = (await store.get(k('ranges')))!.data;
        expect(Buffer.from(whole).equals(Buffer.from(object))).toBe(true);
        await fc.assert(
          fc.asyncProperty(fc.nat({ max: size + 100 }), fc.nat({ max: size + 100 }), async (a, b) => {
            const [start, end] = a <= b ? [a, b] : [b, a];
            const got = (await store.getRange(k('ranges'), start, end))!;
            const want = whole.subarray(Math.min(start, size), Math.min(end, size));
            expect(got.byteLength).toBe(want.byteLength);
            expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(true);
          }),
          { numRuns: 30 },
        );
      });

      it('reads in place exactly the bytes of the whole read, split across buffers anywhere (readRangeInto)', async () => {
        // Through readRangeIntoOf: the store's own readRangeInto where it has one (local disk, the
        // clouds, the caches), else getRange copied into place; either must match the whole read.
        const size = 300_000;
        const object = new Uint8Array(randomBytes(size));
        await store.put(k('into'), object);
        const whole = (await store.get(k('into')))!.data;
        await fc.assert(
          fc.asyncProperty(fc.nat({ max: size + 100 }), fc.array(fc.nat({ max: 70_000 }), { minLength: 1, maxLength: 3 }), async (start, sizes) => {
            const buffers = sizes.map((n) => new Uint8Array(n).fill(0xa5));
            const read = await readRangeIntoOf(store, k('into'), start, buffers);
            const total = sizes.reduce((a, b) => a + b, 0);
            const want = whole.subarray(Math.min(start, size), Math.min(start + total, size));
            expect(read).toBe(want.byteLength);
            const joined = Buffer.concat(buffers);
            expect(joined.subarray(0, want.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(true);
            // Past what was read, the buffers are as they were.
            expect(joined.subarray(want.byteLength).every((b) => b === 0xa5)).toBe(true);
          }),
          { numRuns: 20 },
        );
        expect(await readRangeIntoOf(store, k('into-missing'), 0, [new Uint8Array(8)])).toBeNull();
      });
    });

    describe('putIfAbsent', () => {
      it('creates a missing object', async () => {
        const meta = await store.putIfAbsent(k('once'), utf8('first'));
        expect(meta).toEqual({ key: k('once'), size: 5, etag: expect.any(String) });
        const body = await store.get(k('once'));
        expect(text(body?.data)).toBe('first');
        expect(body?.etag).toBe(meta.etag);
      });

      it('fails with precondition_failed when the key exists, leaving it unchanged', async () => {
        const first = await store.putIfAbsent(k('once'), utf8('first'));
        expect(await rejectionKind(store.putIfAbsent(k('once'), utf8('second')))).toBe('precondition_failed');
        const body = await store.get(k('once'));
        expect(text(body?.data)).toBe('first');
        expect(body?.etag).toBe(first.etag);
      });

      it('fails on a key created by put, and works again after delete', async () => {
        await store.put(k('cycle'), utf8('put'));
        expect(await rejectionKind(store.putIfAbsent(k('cycle'), utf8('x')))).toBe('precondition_failed');
        await store.delete(k('cycle'));
        await store.putIfAbsent(k('cycle'), utf8('again'));
        expect(text((await store.get(k('cycle')))?.data)).toBe('again');
      });

      it('creates an empty object', async () => {
        await store.putIfAbsent(k('empty'), new Uint8Array(0));
        expect((await store.head(k('empty')))?.size).toBe(0);
        expect(await rejectionKind(store.putIfAbsent(k('empty'), new Uint8Array(0)))).toBe('precondition_failed');
      });
    });

    describe('putIfMatch', () => {
      it('replaces the object when the etag is current, returning a new etag', async () => {
        const v1 = await store.put(k('cas'), utf8('v1'));
        const v2 = await store.putIfMatch(k('cas'), utf8('v2!'), v1.etag);
        expect(v2).toEqual({ key: k('cas'), size: 3, etag: expect.any(String) });
        expect(v2.etag).not.toBe(v1.etag);
        const body = await store.get(k('cas'));
        expect(text(body?.data)).toBe('v2!');
        expect(body?.etag).toBe(v2.etag);
      });

      it('fails with precondition_failed on a stale etag, leaving the object unchanged', async () => {
        const v1 = await store.put(k('cas'), utf8('v1'));
        const v2 = await store.putIfMatch(k('cas'), utf8('v2'), v1.etag);
        expect(await rejectionKind(store.putIfMatch(k('cas'), utf8('v3'), v1.etag))).toBe('precondition_failed');
        const body = await store.get(k('cas'));
        expect(text(body?.data)).toBe('v2');
        expect(body?.etag).toBe(v2.etag);
      });

      it('fails with precondition_failed when the key is absent, creating nothing', async () => {
        const other = await store.put(k('other'), utf8('x'));
        expect(await rejectionKind(store.putIfMatch(k('absent'), utf8('v'), other.etag))).toBe('precondition_failed');
        expect(await rejectionKind(store.putIfMatch(k('absent'), utf8('v'), 'no-such-etag'))).toBe('precondition_failed');
        expect(await store.head(k('absent'))).toBeNull();
      });

      it('fails after the object was deleted and re-created', async () => {
        const old = await store.put(k('recreated'), utf8('old'));
        await store.delete(k('recreated'));
        expect(await rejectionKind(store.putIfMatch(k('recreated'), utf8('v'), old.etag))).toBe('precondition_failed');
        await store.put(k('recreated'), utf8('new'));
        expect(await rejectionKind(store.putIfMatch(k('recreated'), utf8('v'), old.etag))).toBe('precondition_failed');
        expect(text((await store.get(k('recreated')))?.data)).toBe('new');
      });

      it('accepts the etags reported by putIfAbsent, get, head and list', async () => {
        let etag = (await store.putIfAbsent(k('chain'), utf8('0'))).etag;
        etag = (await store.putIfMatch(k('chain'), utf8('1'), etag)).etag;
        etag = (await store.putIfMatch(k('chain'), utf8('2'), (await store.get(k('chain')))!.etag)).etag;
        etag = (await store.putIfMatch(k('chain'), utf8('3'), (await store.head(k('chain')))!.etag)).etag;
        const listed = (await store.list(k('chain'))).objects[0]!;
        expect(listed.etag).toBe(etag);
        await store.putIfMatch(k('chain'), utf8('4'), listed.etag);
        expect(text((await store.get(k('chain')))?.data)).toBe('4');
      });
    });

    describe('delete', () => {
      it('removes the object from get, head and list', async () => {
        await store.put(k('gone'), utf8('x'));
        await store.put(k('kept'), utf8('y'));
        await store.delete(k('gone'));
        expect(await store.get(k('gone'))).toBeNull();
        expect(await store.head(k('gone'))).toBeNull();
        expect(await store.getRange(k('gone'), 0, 1)).toBeNull();
        expect((await store.list(k(''))).objects.map((o) => o.key)).toEqual([k('kept')]);
      });

      it('accepts a missing key, twice', async () => {
        await store.delete(k('never-existed'));
        await store.put(k('twice'), utf8('x'));
        await store.delete(k('twice'));
        await store.delete(k('twice'));
        expect(await store.head(k('twice'))).toBeNull();
      });

      it('leaves siblings and other prefixes alone', async () => {
        await store.put(k('a/1'), utf8('1'));
        await store.put(k('a/2'), utf8('2'));
        await store.put(k('a1'), utf8('3'));
        await store.delete(k('a/1'));
        expect((await store.list(k(''))).objects.map((o) => o.key)).toEqual([k('a/2'), k('a1')]);
      });
    });

    describe('list', () => {
      it('returns only keys with the prefix, with their size and etag', async () => {
        const metas = new Map<string, ObjectMeta>();
        for (const key of ['log/1', 'log/2', 'logs/1', 'lo', 'manifest/1', 'log-1']) metas.set(key, await store.put(k(key), utf8(key)));
        const page = await store.list(k('log/'));
        expect(page.objects).toEqual([metas.get('log/1'), metas.get('log/2')]);
        expect(page.nextStartAfter).toBeUndefined();
        expect((await store.list(k('nothing-here/'))).objects).toEqual([]);
      });

      it('returns keys in ascending byte order', async () => {
        // '!' < '-' < '.' < '/' < '0' < 'A' < '_' < 'a' < '~': a directory-style walk that sorts
        // names without the trailing '/' gets this wrong.
        const keys = ['x0', 'x/1', 'x-1', 'x.1', 'x!/2', 'X', 'x~', 'x_', 'xa/b/c', 'x/0/deep/er', 'x/~'];
        for (const key of keys) await store.put(k(key), utf8(key));
        expect((await store.list(k(''))).objects.map((o) => o.key)).toEqual(byteOrder(keys.map(k)));
      });

      it('matches a prefix that ends in the middle of a segment', async () => {
        for (const key of ['a/b/c', 'a/bc/d', 'a/bd', 'a/c/x', 'ab/x', 'a/b-x/y']) await store.put(k(key), utf8(key));
        const listed = (await store.list(k('a/b'))).objects.map((o) => o.key);
        expect(listed).toEqual(byteOrder(['a/b/c', 'a/bc/d', 'a/bd', 'a/b-x/y'].map(k)));
        expect((await store.list(k('a/b/'))).objects.map((o) => o.key)).toEqual([k('a/b/c')]);
        expect((await store.list(k('a'))).objects).toHaveLength(6);
      });

      it('paginates with limit and startAfter, covering every key exactly once', async () => {
        const keys: string[] = [];
        for (let i = 0; i < 12; i++) keys.push(`flat/${String(i).padStart(3, '0')}`);
        for (let i = 0; i < 6; i++) keys.push(`nested/${i % 3}/${i}`, `nested/${i % 3}-x`);
        keys.push('nested/deep/a/b/c/d/e/f', 'other/1');
        const unique = [...new Set(keys)];
        await Promise.all(unique.map((key) => store.put(k(key), utf8(key))));
        const expected = byteOrder(unique.map(k));
        for (const limit of [1, 2, 3, 7, 1000]) {
          expect(await listByPages(store, k(''), limit)).toEqual(expected);
        }
        expect(await listByPages(store, k('nested/'), 4)).toEqual(expected.filter((key) => key.startsWith(k('nested/'))));
      });

      it('sets nextStartAfter exactly when more keys follow the page', async () => {
        for (const key of ['1', '2', '3']) await store.put(k(key), utf8(key));
        const first = await store.list(k(''), { limit: 2 });
        expect(first.objects.map((o) => o.key)).toEqual([k('1'), k('2')]);
        expect(first.nextStartAfter).toBe(k('2'));
        const last = await store.list(k(''), { limit: 2, startAfter: first.nextStartAfter! });
        expect(last.objects.map((o) => o.key)).toEqual([k('3')]);
        expect(last.nextStartAfter).toBeUndefined();
        expect((await store.list(k(''), { limit: 3 })).nextStartAfter).toBeUndefined();
      });

      it('returns keys strictly after startAfter, which need not exist', async () => {
        for (const key of ['a', 'b/1', 'b/2', 'c', 'd/e']) await store.put(k(key), utf8(key));
        const after = async (startAfter: string) => (await store.list(k(''), { startAfter })).objects.map((o) => o.key);
        expect(await after(k('b/1'))).toEqual([k('b/2'), k('c'), k('d/e')]);
        expect(await after(k('b'))).toEqual([k('b/1'), k('b/2'), k('c'), k('d/e')]);
        expect(await after(k('b/'))).toEqual([k('b/1'), k('b/2'), k('c'), k('d/e')]);
        expect(await after(k('bz'))).toEqual([k('c'), k('d/e')]);
        expect(await after(k('d/e'))).toEqual([]);
        expect(await after(k('zzz'))).toEqual([]);
        // A startAfter before the prefix lists the whole prefix.
        expect((await store.list(k('b/'), { startAfter: base })).objects.map((o) => o.key)).toEqual([k('b/1'), k('b/2')]);
      });

      it('listAll and deletePrefix work through the contract', async () => {
        for (let i = 0; i < 25; i++) await store.put(k(`p/${i % 4}/${i}`), utf8(String(i)));
        await store.put(k('q/keep'), utf8('q'));
        const all: string[] = [];
        for await (const meta of listAll(store, k('p/'), 7)) all.push(meta.key);
        expect(all).toHaveLength(25);
        expect(new Set(all).size).toBe(25);
        expect(await deletePrefix(store, k('p/'))).toBe(25);
        expect((await store.list(k(''))).objects.map((o) => o.key)).toEqual([k('q/keep')]);
      });
    });

    describe('invalid keys', () => {
      const invalid = ['', '.', '..', 'a/../b', 'a/./b', '/a', 'a/', 'a//b', 'a b', ' a', 'é', 'a\u00e9', 'a\tb', 'a\nb', 'a\u0000b', 'x'.repeat(1025)];

      it.each(invalid.map((key) => [JSON.stringify(key).slice(0, 40), key]))('rejects %s with invalid_key on every method', async (_label, key) => {
        const data = utf8('x');
        expect(await rejectionKind(store.get(key))).toBe('invalid_key');
        expect(await rejectionKind(store.getRange(key, 0, 1))).toBe('invalid_key');
        expect(await rejectionKind(store.head(key))).toBe('invalid_key');
        expect(await rejectionKind(store.put(key, data))).toBe('invalid_key');
        expect(await rejectionKind(store.putIfAbsent(key, data))).toBe('invalid_key');
        expect(await rejectionKind(store.putIfMatch(key, data, 'etag'))).toBe('invalid_key');
        expect(await rejectionKind(store.delete(key))).toBe('invalid_key');
      });
    });

    describe('concurrency', () => {
      it('exactly one of many concurrent putIfAbsent calls on a key wins', async () => {
        const contenders = 32;
        const results = await Promise.allSettled(Array.from({ length: contenders }, (_, i) => store.putIfAbsent(k('race/once'), utf8(`writer-${i}`))));
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, meta: r.value }] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') {
            expect(r.reason).toBeInstanceOf(ObjectStoreError);
            expect((r.reason as ObjectStoreError).kind).toBe('precondition_failed');
          }
        }
        const body = await store.get(k('race/once'));
        expect(text(body?.data)).toBe(`writer-${winners[0]!.i}`);
        expect(body?.etag).toBe(winners[0]!.meta.etag);
      });

      it('exactly one of many concurrent putIfMatch calls from the same etag wins', async () => {
        const start = await store.put(k('race/cas'), utf8('start'));
        const contenders = 32;
        const results = await Promise.allSettled(
          Array.from({ length: contenders }, (_, i) => store.putIfMatch(k('race/cas'), utf8(`writer-${i}`), start.etag)),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, meta: r.value }] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect((r.reason as ObjectStoreError).kind).toBe('precondition_failed');
        }
        const body = await store.get(k('race/cas'));
        expect(text(body?.data)).toBe(`writer-${winners[0]!.i}`);
        expect(body?.etag).toBe(winners[0]!.meta.etag);
      });

      // Through withRetries, as the engine uses every store: an emulator under this contention may
      // answer a request with a 500 (moto has), which the engine retries; the write tokens keep a
      // retried conditional write from counting twice or being lost.
      it('a compare-and-swap counter loses no increments under contention (with retries, as the engine uses a store)', async () => {
        const retrying = withRetries(store);
        await retrying.put(k('race/counter'), utf8('0'));
        const increment = async () => {
          for (;;) {
            const current = (await retrying.get(k('race/counter')))!;
            try {
              await retrying.putIfMatch(k('race/counter'), utf8(String(Number(text(current.data)) + 1)), current.etag);
              return;
            } catch (err) {
              if (!(err instanceof ObjectStoreError && err.kind === 'precondition_failed')) throw err;
            }
          }
        };
        await Promise.all(Array.from({ length: 20 }, increment));
        expect(text((await retrying.get(k('race/counter')))?.data)).toBe('20');
      });

      it('concurrent writes to different keys all land', async () => {
        const keys = Array.from({ length: 50 }, (_, i) => `many/${i % 5}/${i}`);
        await Promise.all(keys.map((key, i) => (i % 2 ? store.put(k(key), utf8(key)) : store.putIfAbsent(k(key), utf8(key)))));
        expect(await listByPages(store, k('many/'), 1000)).toEqual(byteOrder(keys.map(k)));
        for (const key of keys) expect(text((await store.get(k(key)))?.data)).toBe(key);
      });
    });
  });
}
