import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LinkThreads } from './fs-link-threads.ts';

describe('LinkThreads', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'conifer-link-threads-'));
    mkdirSync(join(root, '.tmp'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const job = (name: string, data: Uint8Array) => ({ root, tmpDir: join(root, '.tmp'), file: join(root, name), data, mtime: 1_700_000_000 });

  it('writes each job whole from a copy of its view, leaving the caller its buffer', async () => {
    const threads = new LinkThreads(3);
    // A view into a larger buffer: only its bytes are written, and the caller's buffer stays usable.
    const buffer = new Uint8Array(64).map((_, i) => i);
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => threads.link(job(`o${i}`, buffer.subarray(i, i + 8)))));
    expect(outcomes.every((o) => o.kind === 'linked')).toBe(true);
    for (let i = 0; i < 12; i++) expect([...readFileSync(join(root, `o${i}`))]).toEqual([...buffer.subarray(i, i + 8)]);
    expect(buffer.byteLength).toBe(64);
  });

  it('starts threads while writes keep them busy, one at a time and never past its maximum', async () => {
    const threads = new LinkThreads(3);
    const sizes: number[] = [];
    for (let round = 0; round < 300 && threads.size < 3; round++) {
      const batch = Array.from({ length: 8 }, (_, i) => threads.link(job(`r${round}-${i}`, new Uint8Array(1024))));
      sizes.push(threads.size);
      expect((await Promise.all(batch)).every((o) => o.kind === 'linked')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(Array.from({ length: 8 }, (_, i) => threads.link(job(`last-${i}`, new Uint8Array(1)))));
    expect(threads.size).toBe(3);
    // Each batch started at most one thread: the next starts only once the one before is up.
    sizes.forEach((size, i) => expect(size - (sizes[i - 1] ?? 0)).toBeLessThanOrEqual(1));
  });

  it('prestarts one thread, once', () => {
    const threads = new LinkThreads(2);
    threads.prestart();
    threads.prestart();
    expect(threads.size).toBe(1);
  });

  it('starts no second thread while one is idle', async () => {
    const threads = new LinkThreads(4);
    for (let i = 0; i < 5; i++) await threads.link(job(`s${i}`, new Uint8Array([i])));
    expect(threads.size).toBe(1);
  });

  it('fails the writes of a thread that dies, and replaces it for the next', async () => {
    const threads = new LinkThreads(1, { workerUrl: new URL('./testing/exiting-worker.ts', import.meta.url) });
    await expect(threads.link(job('a', new Uint8Array([1])))).rejects.toThrow(/exited/);
    await expect(threads.link(job('b', new Uint8Array([2])))).rejects.toThrow(/exited/);
    expect(threads.size).toBe(1);
  });

  it('refuses a count of threads that is not a positive integer', () => {
    expect(() => new LinkThreads(0)).toThrow(RangeError);
    expect(() => new LinkThreads(1.5)).toThrow(RangeError);
  });
});
