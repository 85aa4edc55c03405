import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configPath, permissionWarning, readConfig, resolveConnection, UsageError, writeConfig, type ConfigFile } from './profiles.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'conifer-cli-'));
  dirs.push(dir);
  return dir;
}

const config: ConfigFile = {
  default: 'home',
  profiles: { home: { url: 'http://home:5080', apiKey: 'home-key' }, work: { url: 'http://work:5080', apiKey: 'work-key' } },
};

describe('profiles', () => {
  it('picks flags, then a named profile, then the environment, then the default profile', () => {
    const env = { CONIFER_URL: 'http://env:5080', CONIFER_API_KEY: 'env-key' };
    expect(resolveConnection({}, {}, config, 'f')).toEqual({ url: 'http://home:5080', apiKey: 'home-key' });
    expect(resolveConnection({}, env, config, 'f')).toEqual({ url: 'http://env:5080', apiKey: 'env-key' });
    expect(resolveConnection({ profile: 'work' }, env, config, 'f')).toEqual({ url: 'http://work:5080', apiKey: 'work-key' });
    expect(resolveConnection({}, { ...env, CONIFER_PROFILE: 'work' }, config, 'f')).toEqual({ url: 'http://work:5080', apiKey: 'work-key' });
    expect(resolveConnection({ url: 'http://flag:1', profile: 'work' }, env, config, 'f')).toEqual({ url: 'http://flag:1', apiKey: 'work-key' });
    expect(() => resolveConnection({ profile: 'nope' }, {}, config, 'f')).toThrow(UsageError);
    expect(() => resolveConnection({}, {}, { profiles: {} }, 'f')).toThrow(/no server to talk to/);
  });

  it('finds the config file by CONIFER_CONFIG, XDG_CONFIG_HOME or the home directory', () => {
    expect(configPath({ CONIFER_CONFIG: '/x/c.json', XDG_CONFIG_HOME: '/xdg' })).toBe('/x/c.json');
    expect(configPath({ XDG_CONFIG_HOME: '/xdg' })).toBe('/xdg/conifer/config.json');
    expect(configPath({})).toMatch(/\.config\/conifer\/config\.json$/);
  });

  it('writes the file for its owner only, in a directory for its owner only, and reads it back', async () => {
    const path = join(await tempDir(), 'nested', 'config.json');
    await writeConfig(path, config);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(path, '..'))).mode & 0o777).toBe(0o700);
    expect(await readConfig(path)).toEqual(config);
    expect(await permissionWarning(path)).toBeUndefined();
  });

  it('warns about a config others can read, and refuses one that is not a config', async () => {
    const dir = await tempDir();
    const open = join(dir, 'open.json');
    await writeFile(open, JSON.stringify(config), { mode: 0o644 });
    expect(await permissionWarning(open)).toMatch(/readable by others \(mode 644\); run chmod 600/);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"profiles": 3}');
    await expect(readConfig(broken)).rejects.toThrow(/no "profiles" object/);
    expect(await readConfig(join(dir, 'missing.json'))).toEqual({ profiles: {} });
  });
});
