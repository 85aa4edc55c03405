import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeyedMutex } from './keyed-mutex.ts';

describe('KeyedMutex', () => {
  it('runs callers for one key one at a time, in arrival order', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    let inside = 0;
    await Promise.all(
      [3, 1, 2].map((ms, i) =>
        mutex.run('k', async () => {
          inside++;
          expect(inside).toBe(1);
          events.push(`start ${i}`);
          await sleep(ms);
          events.push(`end ${i}`);
          inside--;
        }),
      ),
    );
    expect(events).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(mutex.size).toBe(0);
  });

  it('does not serialize different keys', async () => {
    const mutex = new KeyedMutex();
    let release!: () => void;
    const blocked = mutex.run('a', () => new Promise<void>((resolve) => (release = resolve)));
    expect(await mutex.run('b', async () => 'b ran')).toBe('b ran');
    release();
    await blocked;
  });

  it('keeps going after a caller throws', async () => {
    const mutex = new KeyedMutex();
    const failed = mutex.run('k', async () => {
      throw new Error('boom');
    });
    const next = mutex.run('k', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('next');
    expect(mutex.size).toBe(0);
  });
});
