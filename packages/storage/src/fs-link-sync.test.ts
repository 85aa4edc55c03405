import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linkDurablySync, SyncDurableDirs, type LinkJob } from './fs-link-sync.ts';

describe('linkDurablySync', () => {
  let root: string;
  let tmpDir: string;
  const dirs = new SyncDurableDirs();
  const job = (key: string, text: string, mtime = 1_700_000_000.5): LinkJob => ({
    root,
    tmpDir,
    file: join(root, ...key.split('/')),
    data: new TextEncoder().encode(text),
    mtime,
  });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'conifer-link-sync-'));
    tmpDir = join(root, '.tmp');
    mkdirSync(tmpDir);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("links the bytes into place, making the directories, and answers the file's own inode, size and mtime", () => {
    const outcome = linkDurablySync(job('a/b/c', 'hello', 1_700_000_001.25), dirs);
    expect(outcome.kind).toBe('linked');
    const stats = statSync(join(root, 'a', 'b', 'c'), { bigint: true });
    expect(outcome).toEqual({ kind: 'linked', stats: { ino: stats.ino, size: 5n, mtimeNs: stats.mtimeNs } });
    expect(stats.mtimeNs).toBe(1_700_000_001_250_000_000n);
    expect(readFileSync(join(root, 'a', 'b', 'c'), 'utf8')).toBe('hello');
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it('never replaces an object: a second write of the key answers exists and leaves the first', () => {
    linkDurablySync(job('k', 'first'), dirs);
    expect(linkDurablySync(job('k', 'second'), dirs)).toEqual({ kind: 'exists' });
    expect(readFileSync(join(root, 'k'), 'utf8')).toBe('first');
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it('answers conflict where the key is a directory of other keys, or passes through an object', () => {
    linkDurablySync(job('d/inner', 'x'), dirs);
    expect(linkDurablySync(job('d', 'y'), dirs).kind).toBe('conflict');
    linkDurablySync(job('f', 'x'), dirs);
    expect(linkDurablySync(job('f/under', 'y'), dirs).kind).toBe('conflict');
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it('makes its temp directory again when it was removed', () => {
    rmSync(tmpDir, { recursive: true });
    expect(linkDurablySync(job('again', 'z'), dirs).kind).toBe('linked');
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it("answers failed with the system error's code, and leaves nothing behind", () => {
    writeFileSync(join(root, 'blocker'), 'a file where the temp directory should be');
    const outcome = linkDurablySync({ ...job('x', 'y'), tmpDir: join(root, 'blocker') }, dirs);
    expect(outcome).toMatchObject({ kind: 'failed', code: 'ENOTDIR' });
    expect(readdirSync(root).sort()).toEqual(['.tmp', 'blocker']);
  });
});
