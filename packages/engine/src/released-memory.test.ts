import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ManualClock } from '@conifer/core';
import { describe, expect, it } from 'vitest';
import { ReleasedMemory } from './released-memory.ts';

/** global.gc without starting node with --expose-gc (test-only: flags set at run time). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Lets the registry's cleanup task run after a collection. */
const cleanupTurn = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('ReleasedMemory', () => {
  it('counts what was let go of until the collector frees it', async () => {
    const released = new ReleasedMemory(new ManualClock());
    let kept: ArrayBuffer | undefined = new ArrayBuffer(1024);
    released.track(kept, 1024);
    // Dropped in a scope of its own: nothing on this stack keeps it.
    (() => released.track(new ArrayBuffer(2048), 2048))();
    expect(released.bytes).toBe(3072);
    for (let i = 0; i < 5 && released.bytes > 1024; i++) {
      collectGarbage();
      await cleanupTurn();
    }
    expect(released.bytes).toBe(1024); // the buffer still referenced is still counted
    expect(released.collected).toBe(1);
    expect(kept.byteLength).toBe(1024);
    kept = undefined;
    for (let i = 0; i < 5 && released.bytes > 0; i++) {
      collectGarbage();
      await cleanupTurn();
    }
    expect(released.bytes).toBe(0);
    expect(released.size).toBe(0);
  });

  it('collects when enough was let go of since the last collection', async () => {
    const released = new ReleasedMemory(new ManualClock());
    (() => released.track(new ArrayBuffer(64), 1000))();
    expect(released.collect(2000)).toBe(false); // too little to be worth a pause
    (() => released.track(new ArrayBuffer(64), 1000))();
    expect(released.bytes).toBe(2000);
    expect(released.collect(2000)).toBe(true);
    await cleanupTurn();
    expect(released.bytes).toBe(0); // freed by that collection alone
    expect(released.collect(1)).toBe(false); // nothing let go of since
  });

  it('stops counting an entry after its maximum age, collected or not', () => {
    const clock = new ManualClock();
    const released = new ReleasedMemory(clock, 1000);
    const held = [new ArrayBuffer(8), new ArrayBuffer(8)];
    released.track(held[0]!, 100);
    clock.advance(600);
    released.track(held[1]!, 10);
    released.track(held[1]!, 0); // nothing to count
    expect(released.bytes).toBe(110);
    clock.advance(500);
    expect(released.bytes).toBe(10);
    clock.advance(600);
    expect(released.bytes).toBe(0);
    expect(released.size).toBe(0);
  });
});
