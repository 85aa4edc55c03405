import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Conifer } from '@conifer/sdk';
import { pineconeParquet } from '@conifer/emulators';
import { chromium, type Browser, type Locator, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureConsoleBuild, startConsole, type ConsoleProcess } from './console-process.ts';
import { REPO_ROOT, startServer, tempDataDir, type ServerProcess } from './server-process.ts';

/**
 * The admin console in Chromium, against a real server process and the real (built) console:
 * sign in, create an index, upsert through the form, query in the playground, browse, look at
 * the engine, create and revoke a key, delete the index; then a bulk import of Parquet files from a
 * local directory (the server runs with `CONIFER_IMPORT_FILE_URIS=true`) started, followed and
 * cancelled from an index's page, and a namespace's metadata schema; a sparse index created through
 * the form, written and queried with sparse vectors; a backup of it taken, restored into a new index
 * and deleted (after its index). Each main page is saved as a screenshot. The steps run in order and
 * share one browser page.
 */
const SCREENSHOTS = join(REPO_ROOT, 'e2e/packaged/test-results/screenshots');
const CHROMIUM = process.env['CONIFER_CHROMIUM'] ?? '/usr/bin/chromium';

let server: ServerProcess;
let consoleApp: ConsoleProcess;
let browser: Browser;
let page: Page;
let dataDir: string;
let importDir: string;

/** A Parquet file in Pinecone's import layout: `n` records `<prefix><i>` of four dimensions. */
function importFile(prefix: string, n: number): Uint8Array {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  return pineconeParquet({ ids, values: ids.map((_, i) => [i + 1, i % 7, (3 * i) % 11, 1]), metadata: ids.map((_, i) => JSON.stringify({ i })) });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits until the element is visible (vitest's expect has no web-first assertions). */
async function visible(locator: Locator): Promise<void> {
  await locator.first().waitFor({ state: 'visible' });
}

/** Waits until the element's text contains `text` (or matches it). */
async function hasText(locator: Locator, text: string | RegExp): Promise<void> {
  await visible(locator);
  await expect
    .poll(async () => (await locator.first().textContent()) ?? '', { timeout: 15_000 })
    .toMatch(typeof text === 'string' ? new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : text);
}

/** Counts the page's refreshes of `path` (RSC requests that are not link prefetches) until `stop()`. */
function watchRefreshes(path: string): { count: () => number; stop: () => void } {
  let count = 0;
  const listener = (request: Request) => {
    const headers = request.headers();
    if (headers['rsc'] === '1' && !headers['next-router-prefetch'] && new URL(request.url()).pathname === path) count++;
  };
  page.on('request', listener);
  return { count: () => count, stop: () => page.off('request', listener) };
}

async function signIn(key: string): Promise<void> {
  await page.goto(`${consoleApp.url}/login`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  const buildSeconds = ensureConsoleBuild();
  if (buildSeconds > 0) console.log(`console: next build took ${buildSeconds.toFixed(1)} s`);
  dataDir = await tempDataDir();
  importDir = await tempDataDir();
  // Two namespaces (1,500 records), a directory without Parquet files, and an import big enough to watch and cancel.
  await mkdir(join(importDir, 'good', 'products'), { recursive: true });
  await mkdir(join(importDir, 'good', 'reviews'), { recursive: true });
  await writeFile(join(importDir, 'good', 'products', 'part-0.parquet'), importFile('p', 1_200));
  await writeFile(join(importDir, 'good', 'reviews', 'part-0.parquet'), importFile('r', 300));
  await mkdir(join(importDir, 'empty', 'nothing'), { recursive: true });
  await writeFile(join(importDir, 'empty', 'nothing', 'README.txt'), 'no parquet here');
  await mkdir(join(importDir, 'big', 'many'), { recursive: true });
  for (let f = 0; f < 60; f++) await writeFile(join(importDir, 'big', 'many', `part-${f}.parquet`), importFile(`m${f}-`, 10_000));
  server = await startServer({ dataDir, env: { CONIFER_USAGE_FLUSH_MS: '200', CONIFER_IMPORT_FILE_URIS: 'true', CONIFER_MEMORY_BUDGET: '1GiB' } });
  consoleApp = await startConsole(server.url);
  await mkdir(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  await consoleApp?.stop();
  server?.child.kill('SIGTERM');
  await server?.exited;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (importDir) await rm(importDir, { recursive: true, force: true });
});

describe('admin console', () => {
  it('rejects an unknown key with the server message, then signs in', async () => {
    await signIn('not-a-real-key-000000');
    await hasText(page.locator('div.alert.error'), /key/i);
    await shot('login');
    await signIn(server.apiKey);
    await page.waitForURL('**/indexes');
    await visible(page.getByText('No indexes yet'));
    // The key lives in an httpOnly cookie, out of reach of page scripts.
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'conifer_key')?.httpOnly).toBe(true);
    expect(await page.evaluate('document.cookie')).not.toContain(server.apiKey);
  });

  it('validates the create form as the API does, creates an index and reports a duplicate', async () => {
    await page.getByLabel('Name').fill('Bad_Name');
    await visible(page.getByText(/lowercase alphanumeric/));
    await page.getByLabel('Name').fill('movies');
    await page.getByLabel('Dimension').fill('3');
    await page.getByLabel('Tags').fill('team=search');
    await page.getByRole('button', { name: 'Create index' }).click();
    await page.waitForURL('**/indexes/movies');
    await visible(page.getByRole('heading', { name: 'movies' }));
    await page.goto(`${consoleApp.url}/indexes`);
    await page.getByLabel('Name').fill('movies');
    await page.getByLabel('Dimension').fill('3');
    await page.getByRole('button', { name: 'Create index' }).click();
    await hasText(page.locator('div.alert.error'), /already exists/i);
  });

  it('upserts records through the form', async () => {
    await page.goto(`${consoleApp.url}/indexes/movies/write?ns=films`);
    const records = [
      { id: 'm1', values: '[0.1, 0.2, 0.3]', metadata: '{"genre": "drama", "year": 2020}' },
      { id: 'm2', values: '0.9, -0.2, 0.1', metadata: '{"genre": "comedy", "year": 2011}' },
    ];
    for (const r of records) {
      await page.getByLabel('Id', { exact: true }).fill(r.id);
      await page.getByLabel(/^Values/).fill(r.values);
      await page.getByLabel(/^Metadata/).fill(r.metadata);
      await page.getByRole('button', { name: 'Upsert record' }).click();
      await visible(page.getByText(`Upserted "${r.id}"`));
    }
    await page.getByLabel('Id', { exact: true }).fill('m3');
    await page.getByLabel(/^Values/).fill('[1, 2]');
    await page.getByRole('button', { name: 'Upsert record' }).click();
    await visible(page.getByText(/must have 3 dimensions/));
    // A rejected submit keeps what was typed, so it can be corrected.
    expect(await page.getByLabel('Id', { exact: true }).inputValue()).toBe('m3');
    expect(await page.getByLabel(/^Values/).inputValue()).toBe('[1, 2]');
    await shot('write');
  });

  it('queries in the playground with a validated filter', async () => {
    await page.goto(`${consoleApp.url}/indexes/movies/query?ns=films`);
    await page.getByLabel(/^Vector/).fill('[0.1, 0.2, 0.3]');
    await page.getByLabel(/^Filter/).fill('{"year": {"$gte": "x"}}');
    await visible(page.getByTestId('filter-error'));
    await page.getByLabel(/^Filter/).fill('{"genre": {"$eq": "drama"}}');
    await page.getByRole('button', { name: 'Run query' }).click();
    const results = page.getByTestId('results');
    await hasText(results, 'm1');
    await hasText(results, 'drama');
    expect(await results.textContent()).not.toContain('m2');
    await hasText(page.getByTestId('latency'), 'ms');
    await shot('query');
  });

  it('browses ids and opens a record', async () => {
    await page.goto(`${consoleApp.url}/indexes/movies/browse?ns=films`);
    await page.getByRole('link', { name: 'm2' }).click();
    await hasText(page.getByTestId('record-id'), 'm2');
    await visible(page.getByText('"comedy"'));
    await shot('browse');
  });

  it('shows the index overview and the engine inside a namespace', async () => {
    await page.goto(`${consoleApp.url}/indexes/movies`);
    await visible(page.getByRole('cell', { name: 'films' }));
    await shot('index');
    await page.goto(`${consoleApp.url}/indexes/movies/engine?ns=films`);
    await visible(page.getByText('LSN written'));
    await visible(page.getByText('Memtable'));
    await visible(page.getByText('Slab cache'));
    await shot('engine');
    // The index list shows each index's record count and storage size.
    await page.goto(`${consoleApp.url}/indexes`);
    const cells = page.getByRole('row', { name: /movies/ }).getByRole('cell');
    await hasText(cells.nth(1), 'dense');
    await hasText(cells.nth(2), /^3$/);
    await hasText(cells.nth(4), /^2$/);
    await hasText(cells.nth(5), /^\d+(\.\d)? (B|KiB|MiB)$/);
    await shot('indexes-storage');
  });

  it('lists the projects the key can see', async () => {
    await page.goto(`${consoleApp.url}/projects`);
    const row = page.getByRole('row', { name: /default/ });
    await hasText(row, 'signed in');
    await shot('projects');
  });

  it('shows the cluster: this server as a live node with every role', async () => {
    await page.getByRole('link', { name: 'Cluster' }).click();
    await page.waitForURL(/\/cluster$/);
    const row = page.getByRole('row', { name: /gateway, writer, query, indexer/ });
    await hasText(row, 'active');
    await hasText(row, server.url);
    const nodeId = (await row.getByRole('cell').first().textContent())!.trim();
    expect(nodeId).toMatch(/^node_/);
    // Its memory against CONIFER_MEMORY_BUDGET, from its heartbeat: the films namespace is open.
    await hasText(row.getByTestId('node-memory'), /(B|KiB|MiB) of 1\.0 GiB/);
    await hasText(row.getByTestId('node-memory'), /[1-9]\d* namespaces open/);

    // One process queues no index builds: it builds its own.
    const jobs = page.getByTestId('jobs');
    await hasText(jobs, 'No index-build jobs');
    await hasText(jobs, 'One process builds its own compactions');

    // Ownership of the first index's namespaces: this node owns them all, with no replica.
    const ownership = page.getByTestId('ownership');
    await hasText(page.getByTestId('single-process'), `One process: this node ${nodeId} owns every namespace`);
    const films = ownership.locator('tr[data-namespace="films"]');
    await hasText(films, nodeId);
    await hasText(films, 'this node');
    await hasText(films, 'no replica');
    const cells = films.getByRole('cell');
    await hasText(cells.nth(1), /^2$/); // records
    await hasText(cells.nth(3), /^\d+$/); // writer epoch
    await hasText(cells.nth(4), /^\d+$/); // written LSN
    await shot('cluster');

    // The job filter keeps the index picked; the namespace links to its engine page.
    await jobs.getByLabel('State').selectOption('failed');
    await jobs.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/state=failed/);
    await hasText(page.getByTestId('jobs'), 'No failed index-build jobs');
    expect(page.url()).toContain('index=movies');
    await page.getByTestId('ownership').getByRole('link', { name: 'films' }).click();
    await page.waitForURL(/\/indexes\/movies\/engine\?ns=films$/);
    await visible(page.getByText('LSN written'));
  });

  it('creates a key (secret shown once), revokes it, and the revoked key is refused', async () => {
    await page.goto(`${consoleApp.url}/keys`);
    await page.getByLabel('Name').fill('temp-reader');
    await page.getByLabel('Role').selectOption('read-only');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-key-secret').textContent())!.trim();
    expect(secret.length).toBeGreaterThan(10);
    await shot('keys');
    const row = page.locator('tr[data-key-name="temp-reader"]');
    await row.getByRole('button', { name: 'Revoke…' }).click();
    await row.getByRole('button', { name: 'Revoke temp-reader' }).click();
    await hasText(row, 'revoked');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    await signIn(secret);
    await hasText(page.locator('div.alert.error'), /revoked|invalid|unknown/i);
    await signIn(server.apiKey);
    await page.waitForURL('**/indexes');
  });

  it('shows usage per day', async () => {
    await page.goto(`${consoleApp.url}/usage`);
    await visible(page.getByText('Read units per day'));
    await visible(page.getByRole('cell', { name: 'movies' }));
    await shot('usage');
  });

  it('configures deletion protection, shows the refusal, then deletes with a named confirmation', async () => {
    await page.goto(`${consoleApp.url}/indexes/movies`);
    await page.getByLabel('Deletion protection').selectOption('enabled');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await visible(page.getByText('Saved: deletion protection enabled'));
    const confirm = page.getByLabel(/Type movies to confirm/);
    await confirm.fill('movies');
    await page.getByRole('button', { name: 'Delete movies' }).click();
    await hasText(page.locator('div.alert.error'), /protection/i);
    await page.getByLabel('Deletion protection').selectOption('disabled');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await visible(page.getByText('Saved: deletion protection disabled'));
    await page.getByLabel(/Type movies to confirm/).fill('movies');
    await page.getByRole('button', { name: 'Delete movies' }).click();
    await page.waitForURL('**/indexes');
    await visible(page.getByText('No indexes yet'));
    await shot('indexes');
  });
  it('starts a bulk import from the index page, follows it to Completed, and lists its namespaces', async () => {
    await page.goto(`${consoleApp.url}/indexes`);
    await page.getByLabel('Name').fill('catalog');
    await page.getByLabel('Dimension').fill('4');
    await page.getByRole('button', { name: 'Create index' }).click();
    await page.waitForURL('**/indexes/catalog');
    const imports = page.getByTestId('imports');
    await visible(imports.getByText('No imports yet'));

    // A URI the server refuses: its own message, and the URI stays to be corrected.
    const uriField = imports.getByLabel(/^Parquet URI/);
    await uriField.fill('ftp://example.com/embeddings');
    await imports.getByRole('button', { name: 'Start import' }).click();
    await hasText(imports.locator('div.alert.error'), /uri: must be s3:\/\/bucket\/prefix/);
    expect(await uriField.inputValue()).toBe('ftp://example.com/embeddings');
    // The form's own check (the API's schema) before any call.
    await uriField.fill('   ');
    await imports.getByRole('button', { name: 'Start import' }).click();
    await visible(imports.getByText('must be a non-empty string'));

    // The import: the page refreshes itself until it has finished, then shows the new namespaces.
    const uri = pathToFileURL(join(importDir, 'good')).href;
    await uriField.fill(uri);
    await imports.getByLabel('On error').selectOption('abort');
    await imports.getByRole('button', { name: 'Start import' }).click();
    await visible(imports.getByText(/Started import imp_/));
    expect(await imports.getByLabel('On error').inputValue()).toBe('abort');
    const row = imports.locator('tbody tr').filter({ hasText: uri });
    await hasText(row.getByRole('cell').nth(1), 'Completed');
    const cells = row.getByRole('cell');
    await hasText(cells.nth(3), /^1,500$/);
    expect(await row.getByRole('progressbar').getAttribute('value')).toBe('100');
    await hasText(cells.nth(2), '100%');
    await hasText(cells.nth(6), /UTC$/);
    expect((await cells.nth(4).textContent())!.trim()).toBe('');
    expect(await row.getByRole('button', { name: /Cancel import/ }).count()).toBe(0);
    await hasText(page.locator('tr[data-namespace="products"]'), '1,200');
    await hasText(page.locator('tr[data-namespace="reviews"]'), '300');
    // Polling stops once no import runs: no more refreshes of the page.
    const refreshes = watchRefreshes('/indexes/catalog');
    await page.waitForTimeout(3_500);
    refreshes.stop();
    expect(refreshes.count()).toBe(0);
    await shot('imports');
  });

  it('shows a failed import with its error, and cancels one under way', async () => {
    const imports = page.getByTestId('imports');
    const uriField = imports.getByLabel(/^Parquet URI/);
    const empty = pathToFileURL(join(importDir, 'empty')).href;
    await uriField.fill(empty);
    await imports.getByRole('button', { name: 'Start import' }).click();
    const failed = imports.locator('tbody tr').filter({ hasText: empty });
    await hasText(failed.getByRole('cell').nth(1), 'Failed');
    await hasText(failed.getByRole('cell').nth(4), /no Parquet files under/);

    // An import of 600,000 records (a few seconds): the page refreshes itself while it runs, then it is cancelled.
    const big = pathToFileURL(join(importDir, 'big')).href;
    await uriField.fill(big);
    const refreshes = watchRefreshes('/indexes/catalog');
    await imports.getByRole('button', { name: 'Start import' }).click();
    const running = imports.locator('tbody tr').filter({ hasText: big });
    await hasText(running.getByRole('cell').nth(1), 'In progress');
    await hasText(imports.getByRole('status'), 'An import is running: refreshing every 1.5 s.');
    await expect.poll(() => refreshes.count(), { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    refreshes.stop();
    await shot('import-running');
    await running.getByRole('button', { name: /^Cancel import imp_/ }).click();
    await hasText(running.getByRole('cell').nth(1), 'Cancelled');
    expect(await running.getByRole('button', { name: /^Cancel import/ }).count()).toBe(0);
    expect(await page.locator('tr[data-namespace="many"]').count()).toBe(0);
  });

  it('shows a namespace’s metadata schema: the fields it indexes and those it only stores', async () => {
    const client = new Conifer({ url: server.url, apiKey: server.apiKey });
    await client.index('catalog').createNamespace('tagged', { schema: { fields: { genre: { filterable: true }, notes: { filterable: false } } } });
    await page.goto(`${consoleApp.url}/indexes/catalog`);
    const tagged = page.locator('tr[data-namespace="tagged"]');
    await hasText(tagged, /indexed: genre/);
    await hasText(tagged, /not indexed: notes/);
    await hasText(page.locator('tr[data-namespace="products"]'), 'none: every field indexed');
    await page.goto(`${consoleApp.url}/indexes/catalog/engine?ns=tagged`);
    await hasText(page.getByTestId('namespace-schema'), /indexed: genre.*not indexed: notes/);
  });
  it('shows a read-only key the imports, without the form or Cancel', async () => {
    const client = new Conifer({ url: server.url, apiKey: server.apiKey });
    const { apiKey } = await client.createApiKey({ name: 'import-reader', role: 'read-only' });
    await signIn(apiKey);
    await page.waitForURL('**/indexes');
    await page.goto(`${consoleApp.url}/indexes/catalog`);
    const imports = page.getByTestId('imports');
    await visible(imports.getByText('Starting and cancelling imports needs a read-write or admin key.'));
    await hasText(imports.locator('tbody tr').filter({ hasText: '/good' }).getByRole('cell').nth(1), 'Completed');
    expect(await imports.getByRole('button', { name: 'Start import' }).count()).toBe(0);
    expect(await imports.getByRole('button').count()).toBe(0);
    await signIn(server.apiKey);
    await page.waitForURL('**/indexes');
  });
  it('creates a sparse index through the form, upserts sparse records and queries them in the playground', async () => {
    await page.goto(`${consoleApp.url}/indexes`);
    await page.getByLabel('Name').fill('terms');
    await page.getByLabel('Vector type').selectOption('sparse');
    // A sparse index has no dimension and scores by dotproduct: both fields are fixed.
    expect(await page.getByLabel(/^Dimension/).isDisabled()).toBe(true);
    expect(await page.getByLabel(/^Metric/).isDisabled()).toBe(true);
    expect(await page.getByLabel(/^Metric/).inputValue()).toBe('dotproduct');
    await page.getByRole('button', { name: 'Create index' }).click();
    await page.waitForURL('**/indexes/terms');
    await hasText(page.getByTestId('index-shape'), 'sparse · dotproduct');

    // One record through the form (no dense values asked for), two through the SDK.
    await page.goto(`${consoleApp.url}/indexes/terms/write?ns=docs`);
    expect(await page.getByLabel(/^Values/).count()).toBe(0);
    await page.getByLabel('Id', { exact: true }).fill('t1');
    await page.getByLabel(/^Sparse indices/).fill('[1, 5]');
    await page.getByLabel(/^Sparse values/).fill('[1, 2, 3]');
    await page.getByRole('button', { name: 'Upsert record' }).click();
    await visible(page.getByText('indices and values must have the same length (got 2 and 3)'));
    await page.getByLabel(/^Sparse values/).fill('1, 2');
    await page.getByLabel(/^Metadata/).fill('{"lang": "en"}');
    await page.getByRole('button', { name: 'Upsert record' }).click();
    await visible(page.getByText('Upserted "t1"'));
    const client = new Conifer({ url: server.url, apiKey: server.apiKey });
    await client
      .index('terms')
      .namespace('docs')
      .upsert([
        { id: 't2', sparseValues: { indices: [5, 9], values: [3, 1] }, metadata: { lang: 'fr' } },
        { id: 't3', sparseValues: { indices: [2], values: [4] }, metadata: { lang: 'en' } },
      ]);

    // The index list: sparse, no dimension, three records.
    await page.goto(`${consoleApp.url}/indexes`);
    const cells = page.getByRole('row', { name: /terms/ }).getByRole('cell');
    await hasText(cells.nth(1), 'sparse');
    await hasText(cells.nth(2), /^—$/);
    await hasText(cells.nth(3), 'dotproduct');
    await hasText(cells.nth(4), /^3$/);

    // Query {5: 1, 9: 0.5}: t2 scores 3·1 + 1·0.5 = 3.5, t1 2·1 = 2.
    await page.goto(`${consoleApp.url}/indexes/terms/query?ns=docs`);
    expect(await page.getByLabel(/^Vector/).count()).toBe(0);
    await page.getByLabel(/^Sparse indices/).fill('[5, 9]');
    await page.getByLabel(/^Sparse values/).fill('[1]');
    await page.getByRole('button', { name: 'Run query' }).click();
    await visible(page.getByText('indices and values must have the same length (got 2 and 1)'));
    await page.getByLabel(/^Sparse values/).fill('[1, 0.5]');
    await page.getByLabel('topK').fill('2');
    await page.getByLabel('include values').check();
    await page.getByRole('button', { name: 'Run query' }).click();
    const rows = page.getByTestId('results').locator('tbody tr');
    await hasText(rows.nth(0), 't2');
    expect(await rows.count()).toBe(2);
    const ranked = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')));
    expect(ranked.map((r) => [r[1], r[2]])).toEqual([
      ['t2', '3.5000'],
      ['t1', '2.0000'],
    ]);
    expect(ranked[0]![3]).toBe('{"lang":"fr"}');
    expect(ranked[0]![4]).toBe('{5: 3, 9: 1} (2 non-zero)');
    await shot('query-sparse');
    // With a filter: only the English record that shares an index.
    await page.getByLabel(/^Filter/).fill('{"lang": {"$eq": "en"}}');
    await page.getByRole('button', { name: 'Run query' }).click();
    await hasText(rows.nth(0), 't1');
    await hasText(rows.nth(0).getByRole('cell').nth(2), '2.0000');
    expect(await page.getByTestId('results').textContent()).not.toContain('t2');
  });

  it('backs the sparse index up, restores the backup into a new index, and deletes it once its index is gone', async () => {
    await page.goto(`${consoleApp.url}/indexes/terms`);
    const backups = page.getByTestId('backups');
    await visible(backups.getByText('No backups yet'));
    await backups.getByLabel(/^Backup name/).fill('nightly');
    await backups.getByLabel(/^Description/).fill('three terms');
    await backups.getByRole('button', { name: 'Create backup' }).click();
    await visible(backups.getByText('Backup nightly is Ready: 3 record(s).'));
    expect(await backups.getByLabel(/^Backup name/).inputValue()).toBe('');
    const row = backups.locator('tr[data-backup-name="nightly"]');
    const cells = row.getByRole('cell');
    await hasText(cells.nth(0), 'three terms');
    await hasText(cells.nth(1), 'Ready');
    await hasText(cells.nth(2), /^3$/);
    await hasText(cells.nth(3), /^1$/);
    await hasText(cells.nth(4), /^\d+(\.\d)? (B|KiB|MiB)$/);
    await hasText(cells.nth(5), /UTC$/);

    // Restore: a bad name is refused by the form, then the job runs to Completed.
    await row.getByRole('button', { name: 'Restore backup nightly to a new index' }).click();
    await row.getByLabel('New index name').fill('Terms_Copy');
    await row.getByRole('button', { name: 'Restore backup nightly', exact: true }).click();
    await visible(row.getByText(/lowercase alphanumeric/));
    await row.getByLabel('New index name').fill('terms-restored');
    await row.getByRole('button', { name: 'Restore backup nightly', exact: true }).click();
    await visible(row.getByText('Restoring into terms-restored: see Restore jobs.'));
    const job = page.getByTestId('restore-jobs').locator('tr[data-target-index="terms-restored"]');
    await hasText(job.getByRole('cell').nth(3), 'Completed');
    await hasText(job.getByRole('cell').nth(4), '100%');
    await hasText(job.getByRole('cell').nth(1), 'nightly');
    await shot('backups-index');

    // The restored index: listed, sparse, with the same three records, and queryable.
    await page.goto(`${consoleApp.url}/indexes`);
    const restored = page.getByRole('row', { name: /terms-restored/ }).getByRole('cell');
    await hasText(restored.nth(1), 'sparse');
    await hasText(restored.nth(4), /^3$/);
    const client = new Conifer({ url: server.url, apiKey: server.apiKey });
    const { matches } = await client
      .index('terms-restored')
      .namespace('docs')
      .query({ sparseVector: { indices: [5, 9], values: [1, 0.5] }, topK: 2 });
    expect(matches.map((m) => m.id)).toEqual(['t2', 't1']);

    // The backup outlives its index: the backups page lists it, and deletes it.
    await client.deleteIndex('terms');
    await page.getByRole('link', { name: 'Backups' }).click();
    await page.waitForURL(/\/backups$/);
    const listed = page.getByTestId('backups').locator('tr[data-backup-name="nightly"]');
    await hasText(listed.getByRole('cell').nth(1), /terms\s*deleted/);
    await hasText(listed.getByRole('cell').nth(2), 'Ready');
    await hasText(page.getByTestId('restore-jobs').locator('tr[data-target-index="terms-restored"]'), 'Completed');
    await shot('backups');
    await listed.getByRole('button', { name: 'Delete backup nightly…' }).click();
    await listed.getByRole('button', { name: 'Delete backup nightly', exact: true }).click();
    await visible(page.getByTestId('backups').getByText('No backups yet'));
    expect((await client.listBackups()).data).toEqual([]);
  });
});
