import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { acquireLock, TOOLS_BIN } from './install.ts';

const run = promisify(execFile);

/** The version a requirements file pins for `name` (`name==<version>` on a line of its own). */
export function pinnedVersion(requirementsFile: string, name: string, requirements = readFileSync(requirementsFile, 'utf8')): string {
  const pinned = new RegExp(`^${name}==(\\S+)$`, 'm').exec(requirements);
  if (pinned === null) throw new Error(`${requirementsFile} pins no ${name}==<version>`);
  return pinned[1]!;
}

/**
 * The directory of a private virtualenv `<TOOLS_BIN>/<name>` holding `requirementsFile`'s pins,
 * installed first when missing or installed from other requirements: `python3 -m venv`, then
 * `pip install -r`. A stamp holding the requirements' hash is written last, so a half-done install
 * (killed, or pip failed) is redone rather than used. Concurrent callers (parallel test processes)
 * wait for one install through a lock directory.
 */
export async function ensureVenv(options: { name: string; requirementsFile: string; what: string; log?: (line: string) => void }): Promise<string> {
  const requirements = readFileSync(options.requirementsFile, 'utf8');
  const venv = join(TOOLS_BIN, options.name);
  const stamp = join(venv, '.conifer-requirements.sha256');
  const wanted = createHash('sha256').update(requirements).digest('hex');
  const current = () => existsSync(join(venv, 'bin', 'python')) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted;
  if (current()) return venv;
  mkdirSync(TOOLS_BIN, { recursive: true });
  const lock = `${venv}.lock`;
  await acquireLock(lock);
  try {
    if (current()) return venv;
    options.log?.(`conifer: installing ${options.what} from ${options.requirementsFile} into ${venv} (one time, about a minute)`);
    // A virtualenv is not relocatable (its scripts name its own path), so it is built in place.
    rmSync(venv, { recursive: true, force: true });
    try {
      await run('python3', ['-m', 'venv', venv], { timeout: 5 * 60 * 1000 });
    } catch (error) {
      throw new Error(`could not create a Python virtualenv with python3 -m venv (on Debian: apt-get install python3-venv): ${String(error)}`, {
        cause: error,
      });
    }
    await run(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', options.requirementsFile], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 15 * 60 * 1000,
    });
    writeFileSync(stamp, `${wanted}\n`);
    return venv;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
