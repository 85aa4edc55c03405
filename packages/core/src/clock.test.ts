import { describe, expect, it } from 'vitest';
import { every, ManualClock, sleep, SYSTEM_CLOCK } from './clock.ts';

describe('ManualClock', () => {
  it('fires timers in due order as time advances, and only then', async () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.after(50, () => fired.push(`b@${clock.now()}`));
    clock.after(10, () => fired.push(`a@${clock.now()}`));
    const cancel = clock.after(20, () => fired.push('cancelled'));
    clock.after(50, () => fired.push(`c@${clock.now()}`));
    cancel();
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(41);
    expect(fired).toEqual(['a@1010', 'b@1050', 'c@1050']);
    expect(clock.now()).toBe(1_050);
    expect(clock.nextDue()).toBeUndefined();
  });

  it('runs a timer set by a timer in the same advance when it falls due within it', () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    const stop = every(clock, 100, () => seen.push(clock.now()));
    clock.advance(350);
    expect(seen).toEqual([100, 200, 300]);
    stop();
    clock.advance(1_000);
    expect(seen).toEqual([100, 200, 300]);
  });

  it('resolves sleeps when time reaches them', async () => {
    const clock = new ManualClock();
    let woke = false;
    const sleeping = sleep(clock, 30).then(() => (woke = true));
    clock.advance(29);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await sleeping;
    expect(woke).toBe(true);
  });
});

describe('SYSTEM_CLOCK', () => {
  it('reads the machine time and sleeps on real timers', async () => {
    const before = Date.now();
    await sleep(SYSTEM_CLOCK, 5);
    expect(SYSTEM_CLOCK.now()).toBeGreaterThanOrEqual(before + 4);
  });
});
