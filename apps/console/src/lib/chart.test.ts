import { describe, expect, it } from 'vitest';
import { dailyTotals, daysBetween, layoutBars } from './chart.ts';
import { formatBytes, formatDuration, freshnessLag, previewVector } from './format.ts';

describe('usage chart data', () => {
  it('fills every day of the range and sums per day', () => {
    expect(daysBetween('2026-02-27', '2026-03-02')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    const days = [
      { day: '2026-03-01', indexName: 'a', readUnits: 1, writeUnits: 5 },
      { day: '2026-03-01', indexName: 'b', readUnits: 2, writeUnits: 0 },
      { day: '2026-03-02', indexName: 'a', readUnits: 0.25, writeUnits: 0 },
    ];
    expect(dailyTotals(days, '2026-02-28', '2026-03-02')).toEqual([
      { day: '2026-02-28', readUnits: 0, writeUnits: 0 },
      { day: '2026-03-01', readUnits: 3, writeUnits: 5 },
      { day: '2026-03-02', readUnits: 0.25, writeUnits: 0 },
    ]);
    expect(dailyTotals(days, '2026-03-01', '2026-03-01', 'b')).toEqual([{ day: '2026-03-01', readUnits: 2, writeUnits: 0 }]);
  });
  it('scales bars to the largest value', () => {
    const { bars, max } = layoutBars(
      [
        { label: 'x', value: 2 },
        { label: 'y', value: 4 },
        { label: 'z', value: 0 },
      ],
      300,
      100,
    );
    expect(max).toBe(4);
    expect(bars.map((b) => b.height)).toEqual([50, 100, 0]);
    expect(bars[1]!.y).toBe(0);
    expect(layoutBars([{ label: 'x', value: 0 }], 100, 100).bars[0]!.height).toBe(0);
  });
});

describe('formatting', () => {
  it('formats bytes, vectors and lag', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(previewVector([1, 2, 3], 2)).toBe('[1, 2, …] (3 dims)');
    expect(freshnessLag(10, 4)).toBe(6);
    expect(freshnessLag(3, 5)).toBe(0);
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(3000)).toBe('3.0 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });
});
