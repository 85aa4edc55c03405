import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GATEWAY_V8_FLAG } from './process-tuning.ts';

/**
 * A gateway-only node's V8 setting, in processes of its own as nodes run: the same garbage a
 * gateway makes (2 MB buffers, as forwarded bodies arrive, each dropped after use) costs it far
 * fewer full collections than a node of another role; and this Node still knows the flag (a Node
 * upgrade that drops it would only print a warning at start).
 */
const CHILD = `
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { tuneProcessForRoles } from ${JSON.stringify(new URL('./process-tuning.ts', import.meta.url).href)};
const tuning = tuneProcessForRoles([process.argv[1]], 10);
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
process.stdout.write(JSON.stringify({ kind: tuning.kind, major, kept: kept.length }));
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

const garbage = async (role: string) => JSON.parse((await run(['--input-type=module', '-e', CHILD, role])).stdout) as { kind: string; major: number };

describe('process tuning by role', () => {
  it('this Node knows the gateway’s V8 flag', async () => {
    const { stderr } = await run([GATEWAY_V8_FLAG, '-e', '0']);
    expect(stderr).not.toMatch(/unrecognized flag|bad option/i);
  });

  it('a gateway-only node runs far fewer full collections for the same buffers than a writer', async () => {
    const gateway = await garbage('gateway');
    const writer = await garbage('writer');
    expect(gateway.kind).toBe('gateway');
    expect(writer.kind).toBe('none');
    expect(writer.major).toBeGreaterThan(4);
    expect(gateway.major * 2).toBeLessThan(writer.major);
    console.log(`full collections for 400 × 2 MB of buffers: gateway ${gateway.major}, writer ${writer.major}`);
  });
});
