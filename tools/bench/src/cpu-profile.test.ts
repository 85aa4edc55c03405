import { describe, expect, it } from 'vitest';
import { breakdown, phaseOfFrame, topFunctions } from './cpu-profile.ts';

const frame = (functionName: string, url = '') => ({ functionName, url, scriptId: '0', lineNumber: 0, columnNumber: 0 });

/** root → fastify route → (JSON.parse | scanRows | idle), sampled every 1 ms from t = 1000 µs. */
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
    { id: 2, callFrame: frame('handler', 'file:///x/node_modules/fastify/lib/route.js'), children: [3, 4] },
    { id: 3, callFrame: frame('parse'), children: [] },
    { id: 4, callFrame: frame('scanRows', 'file:///x/packages/faiss/src/scan.ts'), children: [] },
    { id: 5, callFrame: frame('(idle)'), children: [] },
    { id: 6, callFrame: frame('(garbage collector)'), children: [] },
  ],
  samples: [3, 3, 4, 4, 4, 5, 6, 4],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  startTime: 0,
  endTime: 9000,
};

describe('CPU profile by phase', () => {
  it('charges a builtin to its caller, and each sample to the phase of its innermost known frame', () => {
    expect(phaseOfFrame(frame('map'), 'query')).toBeUndefined();
    expect(phaseOfFrame(frame('parse'), 'query')).toBe('body parse');
    expect(phaseOfFrame(frame('x', 'file:///r/packages/router/src/search.ts'), 'upsert')).toBe('search (engine)');
    expect(phaseOfFrame(frame('x', 'file:///r/packages/engine/src/writes.ts'), 'upsert')).toBe('write path (engine: log, memtable)');
    expect(phaseOfFrame(frame('x', 'file:///r/packages/faiss/src/json-numbers.ts'), 'upsert')).toBe('body parse');
    const all = breakdown(profile, 'query');
    // Sample i lasts until sample i + 1: the last one has no length.
    expect(all.ms['body parse']).toBe(2);
    expect(all.ms['search (engine)']).toBe(3);
    expect(all.ms['garbage collection']).toBe(1);
    expect(all.idleMs).toBe(1);
    expect(all.busyMs).toBe(6);
  });

  it('keeps only the samples of a window', () => {
    // Samples at 1000, 2000, ... µs: the window [2500, 5500] holds the 3rd to 5th (search).
    const window = breakdown(profile, 'query', { fromUs: 2500, toUs: 5500 });
    expect(window.busyMs).toBe(3);
    expect(window.ms['search (engine)']).toBe(3);
    expect(topFunctions(profile, 'query', 1, { fromUs: 2500, toUs: 5500 })).toEqual([
      { name: 'scanRows (packages/faiss/src/scan.ts)', phase: 'search (engine)', ms: 3 },
    ]);
  });
});
