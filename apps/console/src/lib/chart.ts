/**
 * Usage chart data: the server reports units per index per UTC day (days without traffic are
 * absent); the chart shows one bar per day of the range, summed over the selected indexes.
 */

export interface UsageDay {
  day: string;
  indexName: string;
  readUnits: number;
  writeUnits: number;
}

export interface DayTotals {
  day: string;
  readUnits: number;
  writeUnits: number;
}

/** Every day from `from` to `to` (YYYY-MM-DD, inclusive, UTC). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && out.length < 400; t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** One entry per day of the range (zeros where nothing was used), optionally one index only. */
export function dailyTotals(days: readonly UsageDay[], from: string, to: string, index?: string): DayTotals[] {
  const byDay = new Map(daysBetween(from, to).map((day) => [day, { day, readUnits: 0, writeUnits: 0 }]));
  for (const d of days) {
    if (index && d.indexName !== index) continue;
    const total = byDay.get(d.day);
    if (!total) continue;
    total.readUnits += d.readUnits;
    total.writeUnits += d.writeUnits;
  }
  return [...byDay.values()];
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
  label: string;
}

/** Bars of a chart `width`×`height` (plot area), scaled to the largest value. */
export function layoutBars(points: readonly { label: string; value: number }[], width: number, height: number): { bars: Bar[]; max: number } {
  const max = points.reduce((m, p) => Math.max(m, p.value), 0);
  const slot = points.length > 0 ? width / points.length : width;
  const gap = Math.min(4, slot * 0.2);
  const bars = points.map((p, i) => {
    const h = max > 0 ? (p.value / max) * height : 0;
    return { x: i * slot + gap / 2, y: height - h, width: Math.max(1, slot - gap), height: h, value: p.value, label: p.label };
  });
  return { bars, max };
}
