import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { autogroupNiceness } from './thread-priority.ts';

/**
 * `lowerProcessPriority` in a process of its own, as an indexer node runs it: started as a session
 * of its own (as `npm run cluster` starts nodes) it lowers its threads and its scheduling group;
 * started inside its parent's session it lowers its threads only and leaves the group — shared
 * with the parent — alone.
 */
const CHILD = `
import { Worker } from 'node:worker_threads';
import { readdirSync } from 'node:fs';
import { lowerProcessPriority, threadNiceness, autogroupNiceness } from ${JSON.stringify(new URL('./thread-priority.ts', import.meta.url).href)};
const changed = lowerProcessPriority(7);
// A thread started afterwards inherits the priority.
const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
await new Promise((resolve) => worker.once('online', resolve));
const threads = readdirSync('/proc/self/task').map((tid) => threadNiceness(Number(tid)));
process.stdout.write(JSON.stringify({ changed, threads, autogroup: autogroupNiceness() }));
await worker.terminate();
`;

interface ChildReport {
  changed: { threads: number; autogroup: boolean };
  threads: number[];
  autogroup: number;
}

function runChild(detached: boolean): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { detached, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as ChildReport) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

const hasAutogroup = existsSync('/proc/self/autogroup');

describe.runIf(process.platform === 'linux')('lowerProcessPriority', () => {
  it('lowers every thread, and threads started later, in a process inside its parent’s session; the shared group keeps its priority', async () => {
    const before = hasAutogroup ? autogroupNiceness() : 0;
    const report = await runChild(false);
    expect(report.threads.length).toBeGreaterThan(3);
    expect(Math.min(...report.threads)).toBeGreaterThanOrEqual(7);
    expect(report.changed.threads).toBeGreaterThan(0);
    expect(report.changed.autogroup).toBe(false);
    if (hasAutogroup) {
      expect(report.autogroup).toBe(before);
      expect(autogroupNiceness()).toBe(before);
    }
  });

  it.runIf(hasAutogroup)('lowers its scheduling group as well when the process leads a session of its own', async () => {
    const report = await runChild(true);
    expect(report.changed.autogroup).toBe(true);
    expect(report.autogroup).toBe(7);
    expect(Math.min(...report.threads)).toBeGreaterThanOrEqual(7);
  });
});
