import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALL_SETTINGS, readSetting, SETTINGS } from './settings.ts';
import { OPERATIONS_FILE, README_FILE, renderSettingsDocs } from './write-settings-docs.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * `CONIFER_` variables that are not settings of the server, so the registry does not know them;
 * docs and code may name them.
 */
const NOT_SERVER_SETTINGS = new Set([
  // The admin console (apps/console, started by tools/setup/start.sh).
  'CONIFER_CONSOLE_PORT',
  'CONIFER_SERVER_URL',
  'CONIFER_CONSOLE_SECURE_COOKIE',
  // The command line (packages/cli, docs/cli.md): which server, which profile, where profiles live.
  'CONIFER_URL',
  'CONIFER_PROFILE',
  'CONIFER_CONFIG',
  // Test-only: crash failpoints (packages/core), the PostgreSQL of the control-plane tests, the
  // simulation's seeds, the API fuzzer (e2e).
  'CONIFER_FAILPOINTS',
  'CONIFER_TEST_DATABASE_URL',
  'CONIFER_SIM_SEEDS',
  'CONIFER_FUZZ_SEED',
  'CONIFER_FUZZ_MAX_EXAMPLES',
  'CONIFER_FUZZ_MAX_TIME',
  // Tools: storage emulators (tools/emulators), setup scripts (tools/setup, tools/postgres).
  'CONIFER_TOOLS_BIN',
  'CONIFER_EMULATORS',
  'CONIFER_S3_EMULATOR',
  'CONIFER_AZURITE_VERSION',
  'CONIFER_AZURITE_IMAGE',
  'CONIFER_MINIO_IMAGE',
  'CONIFER_FAKE_GCS_IMAGE',
  'CONIFER_ROOT',
  'CONIFER_CHROMIUM',
  'CONIFER_PG_DIR',
  'CONIFER_PG_USER',
]);

const KNOWN = new Set([...ALL_SETTINGS.map((s) => s.env), ...NOT_SERVER_SETTINGS]);

/**
 * Names in `text` that neither the registry nor the list above knows. A name ending in `_`
 * (`CONIFER_RATE_*`, `CONIFER_RATE_<LIMIT>`) stands for a family and must prefix a known one.
 */
function unknownVariables(text: string): string[] {
  const names = new Set(text.match(/CONIFER_[A-Z0-9_]*/g) ?? []);
  return [...names].filter((name) => (name.endsWith('_') ? ![...KNOWN].some((k) => k.startsWith(name)) : !KNOWN.has(name)));
}

async function filesUnder(dir: string, keep: (file: string) => boolean): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && keep(e.name)).map((e) => path.join(e.parentPath, e.name));
}

describe('settings registry', () => {
  it('names each variable once, under the key it is read by', () => {
    const names = ALL_SETTINGS.map((s) => s.env);
    expect(new Set(names).size).toBe(names.length);
    for (const [key, setting] of Object.entries(SETTINGS)) expect(setting.env).toBe(key);
  });

  it('accepts each default it shows and rejects with a message naming the variable and the accepted values', () => {
    for (const setting of ALL_SETTINGS) {
      const shown = /^`([^`]+)`/.exec(setting.defaultText)?.[1];
      // Defaults the server owns are shown as a value a user could set; the others are prose.
      if (shown !== undefined && !shown.includes('<')) expect(readSetting(setting, { [setting.env]: shown }), setting.env).not.toHaveProperty('error');
      if (setting.env === 'CONIFER_HOST' || setting.env === 'CONIFER_DATA_DIR' || setting.env === 'CONIFER_STORAGE') continue;
      expect(readSetting(setting, { [setting.env]: 'no such value' })).toEqual({ error: `${setting.env}: must be ${setting.accepts}` });
    }
  });

  it('treats unset and blank alike', () => {
    for (const setting of ALL_SETTINGS) expect(readSetting(setting, { [setting.env]: '  ' })).toEqual(readSetting(setting, {}));
  });
});

describe('settings docs', () => {
  it('README.md and docs/operations.md carry the tables generated from the registry (node apps/server/src/write-settings-docs.ts)', async () => {
    for (const [file, expected] of await renderSettingsDocs()) expect(await readFile(file, 'utf8'), file).toBe(expected);
  });

  it('document every setting with its default in README.md and docs/operations.md', async () => {
    for (const file of [README_FILE, OPERATIONS_FILE]) {
      const text = await readFile(file, 'utf8');
      for (const setting of ALL_SETTINGS) expect(text, `${setting.env} in ${file}`).toContain(`| \`${setting.env}\` | ${setting.defaultText} |`);
    }
  });

  it('name no CONIFER_ variable the registry does not know (README.md, docs/)', async () => {
    const files = [README_FILE, ...(await filesUnder(path.join(ROOT, 'docs'), (name) => name.endsWith('.md')))];
    for (const file of files) expect(unknownVariables(await readFile(file, 'utf8')), path.relative(ROOT, file)).toEqual([]);
  });

  it('leave no variable read by the server’s code out of the registry', async () => {
    const dirs = [path.join(ROOT, 'apps/server/src'), ...(await readdir(path.join(ROOT, 'packages'))).map((p) => path.join(ROOT, 'packages', p, 'src'))];
    for (const dir of dirs) {
      for (const file of await filesUnder(dir, (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))) {
        // Quoted names only: what code reads (`process.env['…']`), not what comments mention.
        const read = [...(await readFile(file, 'utf8')).matchAll(/['"](CONIFER_[A-Z0-9_]+)['"]/g)].map((m) => m[1]!);
        expect(
          read.filter((name) => !KNOWN.has(name)),
          path.relative(ROOT, file),
        ).toEqual([]);
      }
    }
  });
});
