import { execFile as execFileCallback, spawn } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startServer, tempDataDir, type ServerProcess } from './server-process.ts';

/**
 * The SDK and the command line as users get them: `npm pack` of both workspace packages (their
 * `prepack` builds them; run in a copy of the workspace, see copyOfWorkspace), `npm install` of
 * the tarballs in a fresh application in a temporary directory outside the repository (with
 * registry packages only), then `tsc --strict` and plain `node` — Node 24 and, where the machine
 * has it, Node 20 — against the real server. The examples of docs/sdk.md and docs/cli.md are run
 * as written.
 */
const execFile = promisify(execFileCallback);
const FIXTURES = join(REPO_ROOT, 'e2e', 'fixtures', 'sdk-app');
const NODE20 = '/usr/bin/node';
/** How a user's Node project type-checks: strict, Node 16+ module resolution. */
const NODE16 = ['--strict', '--target', 'es2022', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node'];

let packDir: string;
let appDir: string;
let dataDir: string;
let server: ServerProcess;
let env: NodeJS.ProcessEnv;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; never throws on a non-zero exit (the tests look at the code). */
function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? appDir, env: options.env ?? env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A program that exits without reading its input closes the pipe first (EPIPE): what it did
    // is in its exit code and output, which the tests look at.
    child.stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') reject(err);
    });
    child.stdin.end(options.input ?? '');
  });
}

const tsc = (...args: string[]) => run(join(appDir, 'node_modules', '.bin', 'tsc'), args);
const conifer = (...args: string[]) => run(join(appDir, 'node_modules', '.bin', 'conifer'), args);
const ok = (result: Run, what: string) => expect(result.code, `${what}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
const versionOf = async (pkg: string) =>
  (JSON.parse(await readFile(join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** The fenced blocks of a docs page in a language, in order. */
async function docBlocks(page: string, language: string): Promise<string[]> {
  const text = await readFile(join(REPO_ROOT, 'docs', page), 'utf8');
  return [...text.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]!);
}

/**
 * The files `npm pack -w @conifer/sdk -w @conifer/cli` reads, in a temporary directory: the root
 * manifest and base tsconfig, both packages' sources and `tools/pack`, with the repository's
 * `node_modules` linked in (it resolves `@conifer/core` and the build tools).
 */
async function copyOfWorkspace(): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'conifer-workspace-'));
  temporary.push(copy);
  const skip = /\/(node_modules|dist|test-results)(\/|$)|\/\.package\.workspace\.json$/;
  for (const dir of ['packages/sdk', 'packages/cli', 'tools/pack']) {
    await cp(join(REPO_ROOT, dir), join(copy, dir), { recursive: true, filter: (source) => !skip.test(source.slice(REPO_ROOT.length)) });
  }
  for (const file of ['package.json', 'tsconfig.base.json']) await copyFile(join(REPO_ROOT, file), join(copy, file));
  await symlink(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}
const temporary: string[] = [];

beforeAll(async () => {
  packDir = await mkdtemp(join(tmpdir(), 'conifer-pack-'));
  appDir = await mkdtemp(join(tmpdir(), 'conifer-app-'));
  expect(appDir.startsWith(REPO_ROOT)).toBe(false);
  // Packed in a copy of the workspace: `prepack` swaps a package's manifest for the published one
  // for a moment, which must not reach the other projects' tests running beside this one.
  const workspace = await copyOfWorkspace();
  const packed = await execFile('npm', ['pack', '-w', '@conifer/sdk', '-w', '@conifer/cli', '--pack-destination', packDir], {
    cwd: workspace,
    maxBuffer: 16 << 20,
  });
  expect(packed.stdout).toContain('conifer-sdk-0.1.0.tgz');
  const tarballs = (await readdir(packDir)).sort();
  expect(tarballs).toEqual(['conifer-cli-0.1.0.tgz', 'conifer-sdk-0.1.0.tgz']);

  await writeFile(join(appDir, 'package.json'), JSON.stringify({ name: 'conifer-user-app', private: true, type: 'module' }, null, 2));
  const registry = [
    `typescript@${await versionOf('typescript')}`,
    `@types/node@${await versionOf('@types/node')}`,
    `@trpc/client@${await versionOf('@trpc/client')}`,
  ];
  await execFile('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs.map((t) => join(packDir, t)), ...registry], {
    cwd: appDir,
    maxBuffer: 16 << 20,
  });
  for (const file of await readdir(FIXTURES)) await copyFile(join(FIXTURES, file), join(appDir, file));

  dataDir = await tempDataDir();
  server = await startServer({ dataDir });
  env = {
    ...process.env,
    CONIFER_URL: server.url,
    CONIFER_API_KEY: server.apiKey,
    CONIFER_CONFIG: join(appDir, 'config', 'conifer.json'),
    PATH: `${join(appDir, 'node_modules', '.bin')}:${process.env.PATH}`,
  };
}, 600_000);

afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  await Promise.all([packDir, appDir, dataDir, ...temporary].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

describe('the packed SDK in a fresh application', () => {
  it('installs with nothing but registry packages beside it', async () => {
    const manifest = JSON.parse(await readFile(join(appDir, 'node_modules', '@conifer', 'sdk', 'package.json'), 'utf8'));
    expect(manifest.private).toBeUndefined();
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@trpc/client', '@trpc/server']);
    expect(manifest.engines).toEqual({ node: '>=20' });
    const installed = await readdir(join(appDir, 'node_modules', '@conifer'));
    expect(installed.sort()).toEqual(['cli', 'sdk']);
    // The declarations carry the API's types themselves: no import of a workspace package.
    for (const file of ['index.d.mts', 'index.d.cts', 'index.mjs', 'index.cjs']) {
      const text = await readFile(join(appDir, 'node_modules', '@conifer', 'sdk', 'dist', 'npm', file), 'utf8');
      expect(text, file).not.toMatch(/(?:from|import|require)\s*\(?\s*["']@conifer\//);
    }
  });

  it('type-checks a program using every public method with tsc --strict (node16 and bundler resolution)', async () => {
    ok(await tsc(...NODE16, '--noEmit', '--skipLibCheck', 'false', 'app.ts'), 'tsc node16');
    ok(
      await tsc('--strict', '--noEmit', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--types', 'node', 'app.ts'),
      'tsc bundler',
    );
  });

  it('makes a wrong field a compile error', async () => {
    ok(await tsc(...NODE16, '--noEmit', 'wrong-fields.ts'), 'every @ts-expect-error line is an error');
    // And the same lines without their directives fail: the check above is not vacuous.
    const source = await readFile(join(appDir, 'wrong-fields.ts'), 'utf8');
    await writeFile(join(appDir, 'wrong-unmarked.ts'), source.replaceAll('// @ts-expect-error', '// (was expected to fail)'));
    const unmarked = await tsc(...NODE16, '--noEmit', 'wrong-unmarked.ts');
    expect(unmarked.code).not.toBe(0);
    const errors = unmarked.stdout.split('\n').filter((line) => /wrong-unmarked\.ts\(\d+,\d+\): error/.test(line));
    expect(errors.length).toBeGreaterThanOrEqual(10);
  });

  it('runs the program with plain node, on Node 24 and Node 20, against the real server', async () => {
    ok(await tsc(...NODE16, '--outDir', 'build', 'app.ts'), 'tsc emit');
    const on24 = await run(process.execPath, ['build/app.js']);
    ok(on24, 'node 24');
    expect(on24.stdout).toContain('every call answered as expected');
    const node20 = await stat(NODE20).then(
      () => true,
      () => false,
    );
    if (node20) {
      const version = await run(NODE20, ['--version']);
      if (version.stdout.startsWith('v20.')) {
        const on20 = await run(NODE20, ['build/app.js']);
        ok(on20, 'node 20');
        expect(on20.stdout).toContain('every call answered as expected');
      }
    }
  });

  it('works from CommonJS (require and a .cts file)', async () => {
    ok(await tsc(...NODE16, '--outDir', 'build', 'commonjs.cts'), 'tsc .cts');
    const result = await run(process.execPath, ['build/commonjs.cjs']);
    ok(result, 'commonjs');
    expect(result.stdout).toMatch(/commonjs: listed \d+ indexes/);
    const [snippet] = await docBlocks('sdk.md', 'js');
    const required = await run(process.execPath, ['--input-type=commonjs', '-e', `${snippet}\nif (typeof Conifer !== 'function') process.exit(1);`]);
    ok(required, 'docs/sdk.md CommonJS example');
  });

  it('runs every example of docs/sdk.md', async () => {
    const blocks = await docBlocks('sdk.md', 'ts');
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    await writeFile(join(appDir, 'sdk-docs.ts'), blocks.join('\n'));
    ok(await tsc(...NODE16, '--outDir', 'build', 'sdk-docs.ts'), 'tsc docs/sdk.md');
    const result = await run(process.execPath, ['build/sdk-docs.js']);
    ok(result, 'docs/sdk.md program');
    expect(result.stdout).toContain('sdk docs example: done');
  });
});

describe('the packed command line', () => {
  it('runs every example of docs/cli.md, in order', async () => {
    const blocks = await docBlocks('cli.md', 'sh');
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    const [install, ...rest] = blocks;
    // The install block is what beforeAll did (with its own directories): run only its last line.
    expect(install).toContain('npm pack -w @conifer/sdk -w @conifer/cli --pack-destination');
    const transcript: string[] = [];
    for (const block of [
      install!
        .split('\n')
        .filter((l) => l.startsWith('npx conifer'))
        .join('\n'),
      ...rest,
    ]) {
      const result = await run('bash', ['-euo', 'pipefail', '-c', block]);
      transcript.push(`$ ${block}\n${result.stdout}${result.stderr}`);
      ok(result, `docs/cli.md block:\n${block}\n\ntranscript:\n${transcript.join('\n')}`);
    }
    const all = transcript.join('\n');
    // The failing upsert names the bad line and where to resume; the resumed one finishes it.
    expect(all).toContain('stopped at line 3 (id c): values: Vector dimension 2 does not match the dimension of the index 3; to go on: --resume-after "b"');
    expect(all).toContain('stopped with exit code 1');
    expect(all).toMatch(/line 5: not valid JSON .* — skipped/);
    const config = await stat(join(appDir, 'config', 'conifer.json'));
    expect(config.mode & 0o777).toBe(0o600);
    expect((await stat(join(appDir, 'config'))).mode & 0o777).toBe(0o700);
  });

  it('upserts a Parquet file in Pinecone import layout, reporting bad rows by number', async () => {
    ok(await conifer('index', 'create', 'parquet-import', '--dimension', '3'), 'create');
    const rows = 2_500;
    const ids = Array.from({ length: rows }, (_, i) => `row-${String(i).padStart(5, '0')}`);
    const values = ids.map((_, i) => (i === 1_234 ? [1, 2] : [i + 1, 1, 0.5]));
    const metadata = ids.map((_, i) => (i === 2_000 ? 'not json{' : JSON.stringify({ n: i, even: i % 2 === 0 })));
    const file = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ids },
        { name: 'values', data: values },
        { name: 'metadata', data: metadata },
      ],
      schema: [
        { name: 'root', num_children: 3 },
        { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'values', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
        { name: 'metadata', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ],
      rowGroupSize: 1_000,
    });
    await mkdir(join(appDir, 'import'), { recursive: true });
    await writeFile(join(appDir, 'import', 'part-0.parquet'), new Uint8Array(file));
    const result = await conifer('--json', 'upsert', 'parquet-import', '--file', 'import/part-0.parquet', '--on-error', 'skip', '--batch-size', '300');
    ok(result, 'parquet upsert');
    const summary = JSON.parse(result.stdout) as { upserted: number; skipped: { line: number; error: string }[]; lastAcknowledgedId: string };
    expect(summary.upserted).toBe(rows - 2);
    expect(summary.skipped.map((s) => s.line)).toEqual([1_235, 2_001]);
    expect(summary.lastAcknowledgedId).toBe(ids.at(-1));
    expect(result.stderr).toContain('line 1235 (id row-01234): values: Vector dimension 2 does not match');
    const fetched = await conifer('--json', 'fetch', 'parquet-import', 'row-00000', 'row-02499', 'row-01234');
    ok(fetched, 'fetch');
    const records = (JSON.parse(fetched.stdout) as { records: Record<string, { metadata?: unknown }> }).records;
    expect(Object.keys(records).sort()).toEqual(['row-00000', 'row-02499']);
    expect(records['row-02499']!.metadata).toEqual({ n: 2499, even: false });
  });

  it('runs on Node 20 too', async () => {
    const version = await run(NODE20, ['--version']).catch(() => undefined);
    if (!version?.stdout.startsWith('v20.')) return; // this machine has no Node 20 (the image ships one)
    const cli = join(appDir, 'node_modules', '@conifer', 'cli', 'dist', 'npm', 'main.mjs');
    const listed = await run(NODE20, [cli, '--json', 'index', 'list']);
    ok(listed, 'conifer on Node 20');
    expect(JSON.parse(listed.stdout)).toHaveProperty('indexes');
  });

  it('draws a progress bar on a terminal', async () => {
    const lines = Array.from({ length: 3_000 }, (_, i) => JSON.stringify({ id: `t${i}`, values: [i, 1, 2] })).join('\n');
    await writeFile(join(appDir, 'terminal.jsonl'), `${lines}\n`);
    ok(await conifer('index', 'create', 'terminal', '--dimension', '3'), 'create');
    // util-linux `script` gives the command a pseudo-terminal, as a person's shell would.
    const shown = await run('script', ['-qec', 'conifer upsert terminal --file terminal.jsonl --batch-size 100', '/dev/null']);
    ok(shown, 'upsert on a terminal');
    expect(shown.stdout).toMatch(/100% of the file \| 3000 records upserted/);
    expect(shown.stdout).toContain('upserted 3000 records into terminal/(default)');
  });

  it('says what is wrong with how it was called (exit code 2) and with the server (exit code 1)', async () => {
    const noServer = await run(join(appDir, 'node_modules', '.bin', 'conifer'), ['index', 'list'], {
      env: { PATH: env.PATH, HOME: appDir, CONIFER_CONFIG: join(appDir, 'none.json') },
    });
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toContain('no server to talk to');
    const badOption = await conifer('upsert', 'x', '--file', 'f.jsonl', '--batch-size', '5000');
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('--batch-size must be a whole number from 1 to 1000');
    const missing = await conifer('index', 'describe', 'no-such-index');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/conifer: .*no-such-index/);
  });
});
