import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LinkThreads } from './fs-link-threads.ts';
import { FsObjectStore, LINK_THREAD_MAX_BYTES } from './fs-store.ts';
import { listAll } from './object-store.ts';
import { objectStoreContract, rejectionKind } from './testing/contract.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : b);

async function makeRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'conifer-fs-store-'));
}

objectStoreContract('FsObjectStore', async () => {
  const root = await makeRoot();
  return { store: new FsObjectStore(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});

// Create-if-absent writes run on write threads by default; the async path they replace stays (for
// objects above LINK_THREAD_MAX_BYTES) and keeps the contract too.
objectStoreContract('FsObjectStore without write threads', async () => {
  const root = await makeRoot();
  return { store: new FsObjectStore(root, { linkThreads: null }), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('FsObjectStore', () => {
  let root: string;
  let store: FsObjectStore;
  beforeEach(async () => {
    root = await makeRoot();
    store = new FsObjectStore(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('maps key segments to path segments under the root', async () => {
    await store.put('idx/ns/log/00000000000000000001', utf8('batch'));
    expect(await readFile(join(root, 'idx', 'ns', 'log', '00000000000000000001'), 'utf8')).toBe('batch');
  });

  it('finds objects again from a new instance on the same root, with the same etags', async () => {
    const meta = await store.put('a/b', utf8('persisted'));
    await store.putIfAbsent('a/c', utf8('too'));
    const reopened = new FsObjectStore(root);
    expect(text((await reopened.get('a/b'))?.data)).toBe('persisted');
    expect(await reopened.head('a/b')).toEqual(meta);
    expect((await reopened.list('')).objects.map((o) => o.key)).toEqual(['a/b', 'a/c']);
    await reopened.putIfMatch('a/b', utf8('updated'), meta.etag);
    expect(text((await store.get('a/b'))?.data)).toBe('updated');
  });

  it('changes the etag on every write, even of identical bytes in quick succession', async () => {
    // The etag is inode-size-mtime; freed inodes are reused at once, so this checks the unique mtime stamp.
    const etags = new Set<string>();
    for (let i = 0; i < 200; i++) etags.add((await store.put('same', utf8('same bytes'))).etag);
    expect(etags.size).toBe(200);
    const first = (await store.head('same'))!.etag;
    await store.delete('same');
    const recreated = await store.putIfAbsent('same', utf8('same bytes'));
    expect(recreated.etag).not.toBe(first);
  });

  it('leaves no temp or lock files behind, and never lists them', async () => {
    const meta = await store.put('k/1', utf8('1'));
    await store.putIfAbsent('k/2', utf8('2'));
    await rejectionKind(store.putIfAbsent('k/2', utf8('again')));
    await store.putIfMatch('k/1', utf8('1b'), meta.etag);
    await rejectionKind(store.putIfMatch('k/1', utf8('stale'), meta.etag));
    await rejectionKind(store.putIfMatch('k/missing', utf8('x'), meta.etag));
    await store.delete('k/2');
    await store.delete('k/never');
    expect(await readdir(join(root, '.tmp'))).toEqual(['locks']);
    expect(await readdir(join(root, '.tmp', 'locks'))).toEqual([]);
    // A temp file abandoned by a crashed writer stays invisible.
    await writeFile(join(root, '.tmp', 'crashed-writer'), 'partial');
    expect((await store.list('')).objects.map((o) => o.key)).toEqual(['k/1']);
    expect((await store.list('.')).objects).toEqual([]);
  });

  it('reserves the .tmp top-level segment', async () => {
    expect(await rejectionKind(store.put('.tmp/x', utf8('x')))).toBe('invalid_key');
    expect(await rejectionKind(store.get('.tmp/locks'))).toBe('invalid_key');
    expect(await rejectionKind(store.delete('.tmp'))).toBe('invalid_key');
    expect((await store.list('.tmp/')).objects).toEqual([]);
    // Only the exact segment is reserved.
    await store.put('.tmpx/y', utf8('ok'));
    await store.put('a/.tmp', utf8('ok'));
    expect((await store.list('')).objects.map((o) => o.key)).toEqual(['.tmpx/y', 'a/.tmp']);
  });

  it('limits key segments to 255 bytes', async () => {
    await store.put(`a/${'s'.repeat(255)}`, utf8('ok'));
    expect(await rejectionKind(store.put(`a/${'s'.repeat(256)}`, utf8('x')))).toBe('invalid_key');
    expect(await rejectionKind(store.get(`${'s'.repeat(256)}/a`))).toBe('invalid_key');
  });

  it('fails cleanly when a key would be both an object and a directory', async () => {
    await store.put('a', utf8('object'));
    expect(await rejectionKind(store.put('a/b', utf8('x')))).toBe('permanent');
    expect(await rejectionKind(store.putIfAbsent('a/b', utf8('x')))).toBe('permanent');
    await store.put('c/d', utf8('inside'));
    expect(await rejectionKind(store.put('c', utf8('x')))).toBe('permanent');
    // Not precondition_failed: there is no object "c" — retrying would never succeed.
    expect(await rejectionKind(store.putIfAbsent('c', utf8('x')))).toBe('permanent');
    expect(await store.get('c')).toBeNull();
    await store.delete('c');
    expect(text((await store.get('c/d'))?.data)).toBe('inside');
    expect(await readdir(join(root, '.tmp'))).toEqual(['locks']);
  });

  it("writes objects above the write threads' limit on the async path, with the same meaning", async () => {
    const big = new Uint8Array(LINK_THREAD_MAX_BYTES + 1).fill(3);
    const meta = await store.putIfAbsent('big/one', big);
    expect(meta.size).toBe(big.length);
    expect(await store.head('big/one')).toEqual(meta);
    expect(await rejectionKind(store.putIfAbsent('big/one', big))).toBe('precondition_failed');
    const small = await store.putIfAbsent('big/two', utf8('small'));
    expect(await store.head('big/two')).toEqual(small);
  });

  it('answers a write whose thread died as transient (its outcome unknown), and the next write goes on', async () => {
    const dying = new LinkThreads(1, { workerUrl: new URL('./testing/exiting-worker.ts', import.meta.url) });
    const broken = new FsObjectStore(root, { linkThreads: dying });
    expect(await rejectionKind(broken.putIfAbsent('lost/1', utf8('x')))).toBe('transient');
    expect(await rejectionKind(broken.putIfAbsent('lost/2', utf8('x')))).toBe('transient');
    expect(await store.putIfAbsent('lost/3', utf8('y'))).toEqual(await store.head('lost/3'));
  });

  it('removes directories left empty by delete, and writes into them again', async () => {
    await store.put('x/y/z/1', utf8('1'));
    await store.put('x/keep', utf8('k'));
    await store.delete('x/y/z/1');
    await expect(stat(join(root, 'x', 'y'))).rejects.toThrow(/ENOENT/);
    expect((await stat(join(root, 'x'))).isDirectory()).toBe(true);
    await store.put('x/y/z/2', utf8('2'));
    expect((await store.list('x/')).objects.map((o) => o.key)).toEqual(['x/keep', 'x/y/z/2']);
  });

  // putIfAbsent runs on a write thread, put on the async path: both make directories a delete prunes.
  it.each(['put', 'putIfAbsent'] as const)('keeps writing with %s while deletes prune the same directories', async (write) => {
    const writes = Array.from({ length: 40 }, (_, i) => store[write](`churn/d/${i}`, utf8(String(i))));
    const deletes = Array.from({ length: 40 }, async (_, i) => {
      await store[write](`churn/d/tmp${i}`, utf8('t'));
      await store.delete(`churn/d/tmp${i}`);
    });
    await Promise.all([...writes, ...deletes]);
    expect((await store.list('churn/')).objects.map((o) => o.key).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `churn/d/${i}`).sort());
    expect(await readdir(join(root, '.tmp'))).toEqual(['locks']);
  });

  it('does not list names that cannot be keys, nor escape the root', async () => {
    await store.put('ok/1', utf8('1'));
    await writeFile(join(root, 'ok', 'has space'), 'x');
    await writeFile(join(root, 'ok', 'caf\u00e9'), 'x');
    expect((await store.list('')).objects.map((o) => o.key)).toEqual(['ok/1']);
    for (const prefix of ['../', '/', '/etc', 'ok//', 'ok/../', './ok']) expect((await store.list(prefix)).objects).toEqual([]);
  });

  it('lists a directory of thousands of objects page by page, in order', async () => {
    // Written behind the store's back: this test is about the walk, not about write speed.
    const names = Array.from({ length: 2500 }, (_, i) => String((i * 7919) % 2500).padStart(5, '0'));
    await mkdir(join(root, 'big', 'log'), { recursive: true });
    await Promise.all(names.map((n) => writeFile(join(root, 'big', 'log', n), n)));
    await store.put('big/manifest', utf8('m'));
    const keys: string[] = [];
    for await (const meta of listAll(store, 'big/log/', 700)) keys.push(meta.key);
    expect(keys).toEqual([...names].sort().map((n) => `big/log/${n}`));
    const page = await store.list('big/log/0249', { limit: 5 });
    expect(page.objects.map((o) => o.key)).toEqual(['big/log/02490', 'big/log/02491', 'big/log/02492', 'big/log/02493', 'big/log/02494']);
  });

  it('reads slabs by range through kept handles: replaced and deleted slabs read as they are now, evictions under reads in flight are safe', async () => {
    const bytesOf = (n: number, version: number) => Uint8Array.from({ length: 4096 }, (_, i) => (i * 31 + n * 7 + version) & 0xff);
    const key = (n: number) => `idx/ns/slabs/${String(n).padStart(4, '0')}.slab`;
    await store.put(key(0), bytesOf(0, 0));
    expect(await store.getRange(key(0), 100, 200)).toEqual(bytesOf(0, 0).subarray(100, 200));
    // Replaced through this store: the next read sees the new bytes, not the kept inode's.
    await store.put(key(0), bytesOf(0, 1));
    expect(await store.getRange(key(0), 100, 200)).toEqual(bytesOf(0, 1).subarray(100, 200));
    await store.delete(key(0));
    expect(await store.getRange(key(0), 0, 10)).toBeNull();
    await store.putIfAbsent(key(0), bytesOf(0, 2));
    expect(await store.getRange(key(0), 4000, 5000)).toEqual(bytesOf(0, 2).subarray(4000));
    // More slabs than handles are kept, read at random all at once: every answer right.
    const files = 300;
    await Promise.all(Array.from({ length: files }, (_, n) => store.put(key(n + 1), bytesOf(n + 1, 0))));
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const reads = Array.from({ length: 3000 }, () => {
      const n = 1 + (next() % files);
      const start = next() % 4096;
      const end = start + (next() % 512);
      return { n, start, end };
    });
    const got = await Promise.all(reads.map((r) => store.getRange(key(r.n), r.start, r.end)));
    reads.forEach((r, i) => expect(got[i]).toEqual(bytesOf(r.n, 0).subarray(r.start, r.end)));
  });

  it('close lets go of the slab files kept open: reads in flight finish, later reads answer and keep nothing', async () => {
    // The process's open files under this store's root, from /proc (Linux; elsewhere only the
    // store's own count is checked): other tests' files do not move the count.
    const openFiles = () => {
      if (process.platform !== 'linux') return 0;
      return readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(root);
        } catch {
          return false; // closed meanwhile
        }
      }).length;
    };
    const bytes = (n: number) => Uint8Array.from({ length: 8192 }, (_, i) => (i * 17 + n) & 0xff);
    const key = (n: number) => `idx/ns/slabs/${n}.slab`;
    await Promise.all([0, 1, 2].map((n) => store.put(key(n), bytes(n))));
    const before = openFiles();
    expect(before).toBe(0);
    for (const n of [0, 1, 2]) expect(await store.getRange(key(n), 10, 20)).toEqual(bytes(n).subarray(10, 20));
    expect(store.keptHandles).toBe(3);
    if (process.platform === 'linux') expect(openFiles()).toBe(before + 3);
    const inFlight = store.getRange(key(1), 4000, 8192);
    await store.close();
    expect(await inFlight).toEqual(bytes(1).subarray(4000));
    expect(store.keptHandles).toBe(0);
    expect(await store.getRange(key(2), 100, 300)).toEqual(bytes(2).subarray(100, 300));
    expect(store.keptHandles).toBe(0);
    // Handles close asynchronously: wait until the count is back (or the test times out).
    while (openFiles() > before) await new Promise((r) => setTimeout(r, 5));
    expect(openFiles()).toBe(before);
  });

  it('reads a range in place into buffers as getRange reads it, for slabs and other objects', async () => {
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 13) & 0xff);
    for (const key of ['idx/ns/slabs/a.slab', 'idx/ns/other']) {
      await store.put(key, bytes);
      for (const [start, sizes] of [
        [0, [10_000]],
        [17, [100, 1, 4000]],
        [9_990, [4, 4, 4]],
        [10_000, [8]],
      ] as const) {
        const buffers = sizes.map((n) => new Uint8Array(n));
        const read = await store.readRangeInto(key, start, buffers);
        const expected = await store.getRange(key, start, start + sizes.reduce((a, b) => a + b, 0));
        expect(read).toBe(expected!.length);
        const joined = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
        let at = 0;
        for (const b of buffers) {
          joined.set(b, at);
          at += b.length;
        }
        expect(joined.subarray(0, read!)).toEqual(expected);
      }
      expect(await store.readRangeInto(`${key}-missing`, 0, [new Uint8Array(4)])).toBeNull();
    }
  });

  it('rejects a negative byte range', async () => {
    await store.put('r', utf8('abc'));
    await expect(store.getRange('r', -1, 2)).rejects.toThrow(RangeError);
    await expect(store.getRange('r', 0, Number.NaN)).rejects.toThrow(RangeError);
  });

  describe('lock files', () => {
    const lockPath = (key: string) => join(root, '.tmp', 'locks', createHash('sha256').update(key).digest('hex'));

    it('breaks a lock abandoned by a dead process', async () => {
      const meta = await store.put('m', utf8('v1'));
      await writeFile(lockPath('m'), '999999\n');
      const longAgo = new Date(Date.now() - 120_000);
      await utimes(lockPath('m'), longAgo, longAgo);
      const started = Date.now();
      await store.putIfMatch('m', utf8('v2'), meta.etag);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(text((await store.get('m'))?.data)).toBe('v2');
      expect(await readdir(join(root, '.tmp', 'locks'))).toEqual([]);
    });

    it('waits for a live lock holder', async () => {
      const meta = await store.put('m', utf8('v1'));
      await writeFile(lockPath('m'), `${process.pid}\n`);
      let done = false;
      const write = store.putIfMatch('m', utf8('v2'), meta.etag).then(() => (done = true));
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(done).toBe(false);
      await rm(lockPath('m'));
      await write;
      expect(text((await store.get('m'))?.data)).toBe('v2');
    });
  });

  describe('across processes', () => {
    const child = fileURLToPath(new URL('./testing/race-child.ts', import.meta.url));

    /** Starts the children, lets them all go at once, and collects each one's JSON result. */
    async function race(argsPerChild: string[][]): Promise<unknown[]> {
      const children = argsPerChild.map((args) => {
        const proc = spawn(process.execPath, [child, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        const lines = createInterface({ input: proc.stdout });
        const stderr: string[] = [];
        proc.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
        const output = (async () => {
          const seen: string[] = [];
          for await (const line of lines) seen.push(line);
          return seen;
        })();
        const exit = new Promise<number | null>((resolve) => proc.on('close', resolve));
        const ready = new Promise<void>((resolve, reject) => {
          lines.once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(`child said ${line}`))));
          proc.once('close', () => reject(new Error(`child exited before ready: ${stderr.join('')}`)));
        });
        return { proc, output, exit, ready, stderr };
      });
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.proc.stdin.end('go\n');
      return Promise.all(
        children.map(async (c) => {
          const [code, lines] = await Promise.all([c.exit, c.output]);
          if (code !== 0) throw new Error(`child failed (${code}): ${c.stderr.join('')}`);
          return JSON.parse(lines.at(-1)!);
        }),
      );
    }

    it('exactly one process wins each putIfAbsent race', { timeout: 60_000 }, async () => {
      const writers = 8;
      const keys = 40;
      const results = (await race(Array.from({ length: writers }, (_, w) => ['put-if-absent', root, 'race', String(keys), `writer-${w}`]))) as {
        won: number[];
      }[];
      const winners = new Map<number, number>();
      results.forEach((r, w) => r.won.forEach((i) => winners.set(i, (winners.get(i) ?? -1) === -1 ? w : -2)));
      for (let i = 0; i < keys; i++) {
        const w = winners.get(i);
        expect(w, `key ${i} has exactly one winner`).toBeGreaterThanOrEqual(0);
        expect(text((await store.get(`race/${i}`))?.data)).toBe(`writer-${w}`);
      }
      expect(results.reduce((n, r) => n + r.won.length, 0)).toBe(keys);
      expect(await readdir(join(root, '.tmp', 'locks'))).toEqual([]);
    });

    it('compare-and-swap increments from several processes lose nothing', { timeout: 60_000 }, async () => {
      await store.put('counter', utf8('0'));
      const processes = 4;
      const each = 25;
      const results = (await race(Array.from({ length: processes }, () => ['increment', root, 'counter', String(each)]))) as { conflicts: number }[];
      expect(text((await store.get('counter'))?.data)).toBe(String(processes * each));
      expect(results).toHaveLength(processes);
      expect(await readdir(join(root, '.tmp', 'locks'))).toEqual([]);
    });
  });
});
