import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where a server is and the key to use there. */
export interface Profile {
  url: string;
  apiKey: string;
}

/** The config file: named profiles and the one used when none is named. */
export interface ConfigFile {
  default?: string | undefined;
  profiles: Record<string, Profile>;
}

/** A mistake in how the command was called (exit code 2), as opposed to a failed call (exit code 1). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Env = Record<string, string | undefined>;

/** `CONIFER_CONFIG`, else `$XDG_CONFIG_HOME/conifer/config.json`, else `~/.config/conifer/config.json`. */
export function configPath(env: Env): string {
  if (env.CONIFER_CONFIG) return env.CONIFER_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'conifer', 'config.json');
}

export async function readConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
  const config = parsed as Partial<ConfigFile>;
  if (typeof config !== 'object' || config === null || typeof config.profiles !== 'object' || config.profiles === null) {
    throw new UsageError(`${path} has no "profiles" object`);
  }
  return { default: config.default, profiles: config.profiles };
}

/**
 * Writes the config readable by its owner only (0600, in a 0700 directory): it holds API keys. The
 * file is replaced atomically, so a crash never leaves half a config.
 */
export async function writeConfig(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/** A warning when the config file can be read by others (like ssh, which refuses such keys). */
export async function permissionWarning(path: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info || (info.mode & 0o077) === 0) return undefined;
  return `warning: ${path} holds API keys and is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${path}`;
}

export interface ConnectionFlags {
  url?: string | undefined;
  apiKey?: string | undefined;
  profile?: string | undefined;
}

/**
 * The server and key a command uses. Flags win; then a profile named with `--profile` (or
 * `CONIFER_PROFILE`); then `CONIFER_URL` / `CONIFER_API_KEY`; then the config's default profile.
 */
export function resolveConnection(flags: ConnectionFlags, env: Env, config: ConfigFile, path: string): Profile {
  const named = flags.profile ?? env.CONIFER_PROFILE;
  let base: Partial<Profile> = {};
  if (named !== undefined) {
    const profile = config.profiles[named];
    if (!profile) throw new UsageError(`no profile "${named}" in ${path} (conifer profile list shows them)`);
    base = profile;
  } else if (env.CONIFER_URL || env.CONIFER_API_KEY) {
    base = { url: env.CONIFER_URL, apiKey: env.CONIFER_API_KEY };
  } else if (config.default !== undefined && config.profiles[config.default]) {
    base = config.profiles[config.default]!;
  }
  const url = flags.url ?? base.url;
  const apiKey = flags.apiKey ?? base.apiKey;
  if (!url || !apiKey) {
    throw new UsageError(
      'no server to talk to: pass --url and --api-key, set CONIFER_URL and CONIFER_API_KEY, or save a profile with ' +
        '`conifer profile set NAME --url URL --api-key KEY`',
    );
  }
  return { url, apiKey };
}
