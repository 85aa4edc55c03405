import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FsObjectStore } from './fs-store.ts';
import { MemoryObjectStore } from './memory-store.ts';
import { isPreconditionFailed, listAll, type ObjectStore } from './object-store.ts';

/**
 * Both stores against the simplest possible model — a Map from key to bytes — over random
 * sequences of every write and read. The model also remembers every etag the store handed out, so
 * that compare-and-swap can be tried with the current etag, a stale one, or one from another key.
 */

// No key is a prefix-directory of another ("y" and "y/a"): a file system cannot hold both.
const KEYS = ['x', 'y/a', 'y/b', 'y/c/d', 'y-z', 'z/0', 'z/1/2'];
const PREFIXES = ['', 'x', 'y', 'y/', 'y/c', 'z/', 'z/1/', 'q'];

type Op =
  | { op: 'put' | 'putIfAbsent'; key: string; value: string }
  | { op: 'putIfMatch'; key: string; value: string; etag: 'current' | 'stale' | 'other-key' }
  | { op: 'delete' | 'get'; key: string }
  | { op: 'list'; prefix: string; limit: number };

const key = fc.constantFrom(...KEYS);
const value = fc.string({ maxLength: 12 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('put' as const, 'putIfAbsent' as const), key, value }),
  fc.record({ op: fc.constant('putIfMatch' as const), key, value, etag: fc.constantFrom('current' as const, 'stale' as const, 'other-key' as const) }),
  fc.record({ op: fc.constantFrom('delete' as const, 'get' as const), key }),
  fc.record({ op: fc.constant('list' as const), prefix: fc.constantFrom(...PREFIXES), limit: fc.integer({ min: 1, max: 4 }) }),
);

const encode = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);
const sorted = (keys: Iterable<string>) => [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

async function runAgainstModel(store: ObjectStore, ops: Op[]): Promise<void> {
  const model = new Map<string, { value: string; etag: string }>();
  const pastEtags = new Map<string, string[]>();
  const remember = (k: string, etag: string) => pastEtags.set(k, [...(pastEtags.get(k) ?? []), etag]);

  for (const step of ops) {
    switch (step.op) {
      case 'put': {
        const meta = await store.put(step.key, encode(step.value));
        model.set(step.key, { value: step.value, etag: meta.etag });
        remember(step.key, meta.etag);
        break;
      }
      case 'putIfAbsent': {
        const outcome = await store.putIfAbsent(step.key, encode(step.value)).catch((err: unknown) => err);
        if (model.has(step.key)) {
          expect(isPreconditionFailed(outcome), `putIfAbsent ${step.key} over an existing object`).toBe(true);
        } else {
          expect(outcome, `putIfAbsent ${step.key} of a missing object`).not.toBeInstanceOf(Error);
          const etag = (outcome as { etag: string }).etag;
          model.set(step.key, { value: step.value, etag });
          remember(step.key, etag);
        }
        break;
      }
      case 'putIfMatch': {
        const current = model.get(step.key);
        const history = pastEtags.get(step.key) ?? [];
        const otherKey = KEYS.find((k) => k !== step.key && model.has(k));
        const etag =
          step.etag === 'current'
            ? current?.etag
            : step.etag === 'stale'
              ? history.filter((e) => e !== current?.etag).at(-1)
              : otherKey && model.get(otherKey)!.etag;
        const outcome = await store.putIfMatch(step.key, encode(step.value), etag ?? 'never-issued').catch((err: unknown) => err);
        if (current && etag === current.etag) {
          expect(outcome, `putIfMatch ${step.key} with its current etag`).not.toBeInstanceOf(Error);
          const next = (outcome as { etag: string }).etag;
          model.set(step.key, { value: step.value, etag: next });
          remember(step.key, next);
        } else {
          expect(isPreconditionFailed(outcome), `putIfMatch ${step.key} with a ${step.etag} etag`).toBe(true);
        }
        break;
      }
      case 'delete':
        await store.delete(step.key);
        model.delete(step.key);
        break;
      case 'get': {
        const body = await store.get(step.key);
        const expected = model.get(step.key);
        expect(body && { value: decode(body.data), etag: body.etag }).toEqual(expected ?? null);
        break;
      }
      case 'list': {
        const expected = sorted([...model.keys()].filter((k) => k.startsWith(step.prefix)));
        const listed: string[] = [];
        for await (const meta of listAll(store, step.prefix, step.limit)) {
          expect(meta.etag).toBe(model.get(meta.key)?.etag);
          listed.push(meta.key);
        }
        expect(listed).toEqual(expected);
        break;
      }
    }
  }
  // Finally the whole store, read back object by object.
  const all: string[] = [];
  for await (const meta of listAll(store, '')) all.push(meta.key);
  expect(all).toEqual(sorted(model.keys()));
  for (const [k, { value: v, etag }] of model) {
    const body = await store.get(k);
    expect(body && { value: decode(body.data), etag: body.etag }).toEqual({ value: v, etag });
  }
}

describe('stores against a Map model', () => {
  it('MemoryObjectStore', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), (ops) => runAgainstModel(new MemoryObjectStore(), ops)),
      { numRuns: 300 },
    );
  });

  it('FsObjectStore', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const root = await mkdtemp(join(tmpdir(), 'conifer-model-'));
        try {
          await runAgainstModel(new FsObjectStore(root), ops);
        } finally {
          await rm(root, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });
});
