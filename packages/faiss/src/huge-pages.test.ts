import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adviseHugePages } from './threads.ts';

/** The kernel's THP mode (`always`, `madvise` or `never`), or undefined off Linux. */
function thpMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Bytes of this process's anonymous memory backed by huge pages. */
function anonHugeBytes(): number {
  const kb = /AnonHugePages:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1];
  return Number(kb) * 1024;
}

const MiB = 2 ** 20;

describe('adviseHugePages', () => {
  it('refuses what is not a typed array', () => {
    expect(() => adviseHugePages({} as Uint8Array)).toThrow(TypeError);
  });

  it('advises nothing in an array too small to hold an aligned 2 MiB page', () => {
    expect(adviseHugePages(new Uint8Array(new SharedArrayBuffer(MiB)))).toBe(false);
  });

  // The kernel's own accounting says whether the pages are huge: the advice alone proves nothing.
  it.runIf(thpMode() === 'madvise')('backs an advised array with huge pages once written, and leaves an unadvised one alone (THP in madvise mode)', () => {
    const plain = new Uint8Array(new SharedArrayBuffer(64 * MiB));
    const beforePlain = anonHugeBytes();
    plain.fill(1);
    expect(anonHugeBytes() - beforePlain).toBeLessThan(8 * MiB);

    const advised = new Uint8Array(new SharedArrayBuffer(64 * MiB));
    expect(adviseHugePages(advised)).toBe(true);
    const before = anonHugeBytes();
    advised.fill(1);
    expect(anonHugeBytes() - before).toBeGreaterThanOrEqual(32 * MiB);
    expect(plain[0]! + advised[advised.length - 1]!).toBe(2); // both stay alive until here
  });
});
