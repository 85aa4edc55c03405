import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureConsoleBuild, startConsole, type ConsoleProcess } from './console-process.ts';
import { REPO_ROOT, startServer, tempDataDir, type ServerProcess } from './server-process.ts';

/**
 * The admin console in Chromium, against a real server process and the real (built) console:
 * sign in, create an index, upsert through the form, query in the playground, browse, look at
 * the engine, create and revoke a key, delete the index. Each main page is saved as a screenshot.
 * The steps run in order and share one browser page.
 */
const SCREENSHOTS = join(REPO_ROOT, 'e2e/test-results/screenshots');
const CHROMIUM = process.env['CONIFER_CHROMIUM'] ?? '/usr/bin/chromium';

let server: ServerProcess;
let consoleApp: ConsoleProcess;
let browser: Browser;
let page: Page;
let dataDir: string;

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

async function signIn(key: string): Promise<void> {
  await page.goto(`${consoleApp.url}/login`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  const buildSeconds = ensureConsoleBuild();
  if (buildSeconds > 0) console.log(`console: next build took ${buildSeconds.toFixed(1)} s`);
  dataDir = await tempDataDir();
  server = await startServer({ dataDir, env: { CONIFER_USAGE_FLUSH_MS: '200' } });
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
    await hasText(cells.nth(3), /^2$/);
    await hasText(cells.nth(4), /^\d+(\.\d)? (B|KiB|MiB)$/);
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
});
