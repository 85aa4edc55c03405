import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { V8_FLAGS } from './process-tuning.ts';

/**
 * The V8 settings of gateway and writer nodes, in processes of their own as nodes run: the same
 * garbage (2 MB buffers, as upsert bodies arrive, each dropped after use, beside 256 MB of live
 * buffers such as a writer's memtables) costs them far fewer full collections than a node that
 * serves queries; and this Node still knows the flags (a Node upgrade that drops one would only
 * print a warning at start).
 */
const CHILD = `
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { tuneProcessForRoles } from ${JSON.stringify(new URL('./process-tuning.ts', import.meta.url).href)};
const tuning = tuneProcessForRoles(process.argv[1].split(','), 10);
const live = Array.from({ length: 32 }, (_, i) => new Uint8Array(8 * 1024 * 1024).fill(i));
let major = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
}).observe({ entryTypes: ['gc'] });
let kept;
for (let i = 0; i < 400; i++) {
  kept = new Uint8Array(2 * 1024 * 1024).fill(i);
  if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
}
await new Promise((resolve) => setTimeout(resolve, 50));
process.stdout.write(JSON.stringify({ kind: tuning.kind, major, kept: kept.length, live: live.length }));
`;

function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`exit ${code}: ${stderr}`))));
  });
}

const garbage = async (roles: string) => JSON.parse((await run(['--input-type=module', '-e', CHILD, roles])).stdout) as { kind: string; major: number };

describe('process tuning by role', () => {
  it('this Node knows the V8 flags of gateways and writers', async () => {
    const { stderr } = await run([...new Set([...V8_FLAGS.gateway, ...V8_FLAGS.writer]), '-e', '0']);
    expect(stderr).not.toMatch(/unrecognized flag|bad option|warning/i);
  });

  it('gateway and writer nodes run far fewer full collections for the same buffers than nodes that serve queries', async () => {
    // A writer's growing factor is fixed (HEAP_GROWING_V8_FLAG); a gateway's is V8's own, picked
    // from how fast it collects, so on a loaded machine (other test files running) one run of it
    // can take 4–7 collections where an idle one takes 1–2 (against 9–12 untuned either way): the
    // gateway is judged by the best of three runs, against two thirds of the untuned count. Without
    // its flag it would collect as often as the untuned nodes.
    const [gatewayRuns, writer, writerGateway, query, single] = await Promise.all([
      Promise.all([garbage('gateway'), garbage('gateway'), garbage('gateway')]),
      garbage('writer'),
      garbage('gateway,writer'),
      garbage('query'),
      garbage('gateway,writer,query,indexer'),
    ]);
    const gateway = gatewayRuns.reduce((best, run) => (run.major < best.major ? run : best));
    expect([gateway.kind, writer.kind, writerGateway.kind, query.kind, single.kind]).toEqual(['gateway', 'writer', 'writer', 'none', 'none']);
    for (const untuned of [query, single]) {
      expect(untuned.major).toBeGreaterThan(4);
      for (const tuned of [writer, writerGateway]) expect(tuned.major * 3).toBeLessThan(untuned.major);
      expect(gateway.major * 1.5).toBeLessThan(untuned.major);
    }
    console.log(
      `full collections for 400 × 2 MB of buffers: gateway ${gatewayRuns.map((r) => r.major).join('/')}, writer ${writer.major}, query ${query.major}, single ${single.major}`,
    );
  });
});
