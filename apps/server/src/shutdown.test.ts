import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Conifer } from '@conifer/sdk';
import { buildServer } from './app.ts';
import { ADMIN_KEY_FILE } from './bootstrap.ts';
import { loadConfig } from './config.ts';
import { freePort, SERVER_MAIN as MAIN, spawnServer, tempDataDir, TEST_API_KEY } from './test-support.ts';

describe('node src/main.ts', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('prints a generated admin key once, stops cleanly on SIGTERM and keeps the data', async () => {
    const dataDir = await tempDataDir();
    dirs.push(dataDir);
    const env = { CONIFER_DATA_DIR: dataDir, CONIFER_PORT: String(await freePort()) };

    const first = await spawnServer(env);
    children.push(first.process);
    const keyFile = path.join(dataDir, ADMIN_KEY_FILE);
    const apiKey = (await readFile(keyFile, 'utf8')).trim();
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(first.stdout()).toContain(apiKey);
    expect(first.stdout()).toContain('shown only this once');
    expect(first.url).toBe(`http://127.0.0.1:${env.CONIFER_PORT}`);

    const client = new Conifer({ url: first.url, apiKey });
    await client.createIndex({ name: 'docs', dimension: 3 });
    const records = Array.from({ length: 200 }, (_, i) => ({ id: `r${i}`, values: [i + 1, 1, 0.5], metadata: { n: i } }));
    await client.index('docs').namespace('ns').upsert(records);

    first.process.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // The key is never logged: it appears once, in the banner.
    expect(first.stdout().split(apiKey).length - 1).toBe(1);
    expect(first.stderr()).not.toContain(apiKey);

    env.CONIFER_PORT = String(await freePort());
    const second = await spawnServer(env);
    children.push(second.process);
    expect(second.stdout()).not.toContain('shown only this once');
    const again = new Conifer({ url: second.url, apiKey });
    expect((await again.index('docs').describeIndexStats()).namespaces).toEqual({ ns: { recordCount: 200 } });
    const { records: fetched } = await again.index('docs').namespace('ns').fetch(['r0', 'r199']);
    expect(fetched.r199).toEqual({ id: 'r199', values: [200, 1, 0.5], metadata: { n: 199 } });

    second.process.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('exits with code 1 and a clear message on bad configuration', async () => {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, CONIFER_PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve)); // 'close': after stderr is read to its end
    expect(code).toBe(1);
    expect(err).toContain('Invalid configuration: CONIFER_PORT: must be an integer from 0 to 65535');
  });

  it('rejects an unsupported storage URL with code 1', async () => {
    const dataDir = await tempDataDir();
    dirs.push(dataDir);
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, CONIFER_DATA_DIR: dataDir, CONIFER_STORAGE: 'ftp://nowhere', CONIFER_PORT: String(await freePort()) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve)); // 'close': after stderr is read to its end
    expect(code).toBe(1);
    expect(err).toMatch(/^conifer: CONIFER_STORAGE: unsupported object store URL/);
  });
});

describe('ConiferServer.close', () => {
  it('lets requests in flight finish, then refuses new connections', async () => {
    const dataDir = await tempDataDir();
    const config = loadConfig({ CONIFER_DATA_DIR: dataDir, CONIFER_PORT: '0', CONIFER_API_KEY: TEST_API_KEY, CONIFER_LOG_LEVEL: 'silent' });
    const server = await buildServer(config);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    server.app.get('/test-slow', async () => {
      entered();
      await gate;
      return { done: true };
    });
    const url = await server.start();
    try {
      const slow = fetch(`${url}/test-slow`).then(async (r) => [r.status, await r.json()] as const);
      await inHandler;
      const closed = server.close();
      let closeDone = false;
      void closed.then(() => (closeDone = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(closeDone).toBe(false); // still draining
      await expect(fetch(`${url}/healthz`)).rejects.toThrow(); // no longer accepting
      release();
      expect(await slow).toEqual([200, { done: true }]);
      await closed;
    } finally {
      release();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
