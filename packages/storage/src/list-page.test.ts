import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectListPage } from './list-page.ts';
import type { ObjectMeta } from './object-store.ts';

const meta = (key: string): ObjectMeta => ({ key, size: key.length, etag: `e-${key}` });

/**
 * A listing service over `keys` that honours the prefix but, when `honoursStartAfter` is false,
 * answers from the start of it (as Azurite before 3.37 does with `startFrom`), in pages of the
 * given sizes.
 */
async function* service(keys: string[], prefix: string, startAfter: string | undefined, honoursStartAfter: boolean, pageSizes: number[]) {
  const listed = keys.filter((k) => k.startsWith(prefix) && (!honoursStartAfter || startAfter === undefined || k >= startAfter)).map(meta);
  for (let i = 0, p = 0; i < listed.length; p++) {
    const size = pageSizes[p % pageSizes.length]!;
    yield listed.slice(i, i + size);
    i += size;
  }
}

describe('collectListPage', () => {
  it('pages through keys after startAfter exactly as a reference, whether or not the service honours it', async () => {
    const segment = fc.constantFrom('a', 'b', 'log', '0001', '0002', 'z~');
    const key = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(key, { maxLength: 40 }),
        fc.constantFrom('', 'p/', 'store/'),
        fc.constantFrom('', 'a', 'log/', 'b/'),
        fc.integer({ min: 1, max: 7 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
        async (relative, storePrefix, prefix, limit, honours, pageSizes) => {
          // Keys outside the store's prefix must never show up either.
          const foreign = storePrefix === '' ? [] : ['other/a', 'p0'];
          const keys = [...relative.map((k) => storePrefix + k), ...foreign].sort();
          const expected = [...new Set(relative)].filter((k) => k.startsWith(prefix)).sort();
          const seen: string[] = [];
          let startAfter: string | undefined;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThanOrEqual(expected.length + 1);
            const full = startAfter === undefined ? undefined : storePrefix + startAfter;
            const page = await collectListPage(service(keys, storePrefix + prefix, full, honours, pageSizes), { storePrefix, prefix, startAfter, limit });
            expect(page.objects.length).toBeLessThanOrEqual(limit);
            seen.push(...page.objects.map((o) => o.key));
            if (page.nextStartAfter === undefined) break;
            expect(page.objects).toHaveLength(limit);
            expect(page.nextStartAfter).toBe(page.objects.at(-1)!.key);
            startAfter = page.nextStartAfter;
          }
          expect(seen).toEqual(expected);
        },
      ),
    );
  });

  it('drops a repeated or out-of-order key instead of returning it twice', async () => {
    async function* pages() {
      yield [meta('k/1'), meta('k/3')];
      yield [meta('k/3'), meta('k/2'), meta('k/4')];
    }
    const page = await collectListPage(pages(), { storePrefix: '', prefix: 'k/', startAfter: undefined, limit: 10 });
    expect(page.objects.map((o) => o.key)).toEqual(['k/1', 'k/3', 'k/4']);
  });

  it('stops reading the service once it has seen one key beyond a full page', async () => {
    let served = 0;
    async function* pages() {
      for (let p = 0; p < 100; p++) {
        served++;
        yield [meta(`k/${String(2 * p).padStart(3, '0')}`), meta(`k/${String(2 * p + 1).padStart(3, '0')}`)];
      }
    }
    const page = await collectListPage(pages(), { storePrefix: '', prefix: 'k/', startAfter: 'k/002', limit: 3 });
    expect(page).toEqual({ objects: [meta('k/003'), meta('k/004'), meta('k/005')].map((m) => ({ ...m, etag: `e-${m.key}` })), nextStartAfter: 'k/005' });
    expect(served).toBe(4);
  });
});
