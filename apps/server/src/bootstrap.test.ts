import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlPlane, type ControlPlane } from '@conifer/control';
import { pgliteTemplateDump } from '@conifer/control/testing';
import { createLogger } from './logger.ts';
import { ADMIN_KEY_FILE, adminKeyBanner, bootstrapAdmin } from './bootstrap.ts';
import { tempDataDir } from './test-support.ts';

describe('bootstrapAdmin', () => {
  let control: ControlPlane;
  let dataDir: string;
  const logger = createLogger('silent');
  beforeAll(async () => {
    control = await createControlPlane({ pgliteDump: await pgliteTemplateDump() });
    dataDir = await tempDataDir();
  });
  afterAll(async () => {
    await control.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints a generated key once and saves it with mode 0600', async () => {
    let printed = '';
    const out = { write: (text: string) => (printed += text) };
    const first = await bootstrapAdmin(control, { dataDir, apiKey: undefined }, logger, out);
    expect(first.generatedKey).toBeDefined();
    const keyFile = path.join(dataDir, ADMIN_KEY_FILE);
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(first.generatedKey);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(printed).toContain(first.generatedKey);
    expect(await control.authenticate(first.generatedKey!)).toMatchObject({ role: 'admin', projectId: first.projectId });

    printed = '';
    const second = await bootstrapAdmin(control, { dataDir, apiKey: undefined }, logger, out);
    expect(second.generatedKey).toBeUndefined();
    expect(printed).toBe('');
  });

  it('registers a key given in CONIFER_API_KEY without printing it', async () => {
    let printed = '';
    const apiKey = 'cnf_operator_chosen_key_0001';
    const outcome = await bootstrapAdmin(control, { dataDir, apiKey }, logger, { write: (text: string) => (printed += text) });
    expect(outcome.generatedKey).toBeUndefined();
    expect(printed).toBe('');
    expect(await control.authenticate(apiKey)).toMatchObject({ role: 'admin' });
  });

  it('boxes the banner', () => {
    const lines = adminKeyBanner('cnf_abc', '/d/admin-api-key').trim().split('\n');
    expect(lines[0]).toMatch(/^┌─+┐$/);
    expect(lines.at(-1)).toMatch(/^└─+┘$/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});
