import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { acquireLock, TOOLS_BIN } from '@conifer/emulators';
import { REPO_ROOT } from './server-process.ts';

const run = promisify(execFile);

/** The pinned Schemathesis and all it depends on, one `name==version` a line. */
export const REQUIREMENTS_FILE = join(REPO_ROOT, 'e2e/api-fuzz/requirements.txt');

/** The Schemathesis version the requirements pin, e.g. "4.32.5". */
export function schemathesisVersion(requirements = readFileSync(REQUIREMENTS_FILE, 'utf8')): string {
  const pinned = /^schemathesis==(\S+)$/m.exec(requirements);
  if (pinned === null) throw new Error(`${REQUIREMENTS_FILE} pins no schemathesis==<version>`);
  return pinned[1]!;
}

/**
 * The `schemathesis` executable, installed first when missing or installed from other
 * requirements: `python3 -m venv` into `<TOOLS_BIN>/schemathesis-<version>`, then `pip install -r
 * e2e/api-fuzz/requirements.txt`. A stamp holding the requirements' hash is written last, so a
 * half-done install (killed, or pip failed) is redone rather than used. Concurrent callers
 * (parallel test processes) wait for one install through a lock directory.
 */
export async function ensureSchemathesis(log: (line: string) => void = () => undefined): Promise<string> {
  const requirements = readFileSync(REQUIREMENTS_FILE, 'utf8');
  const venv = join(TOOLS_BIN, `schemathesis-${schemathesisVersion(requirements)}`);
  const executable = join(venv, 'bin', 'schemathesis');
  const stamp = join(venv, '.conifer-requirements.sha256');
  const wanted = createHash('sha256').update(requirements).digest('hex');
  const current = () => existsSync(executable) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted;
  if (current()) return executable;
  mkdirSync(TOOLS_BIN, { recursive: true });
  const lock = `${venv}.lock`;
  await acquireLock(lock);
  try {
    if (current()) return executable;
    log(`conifer-e2e: installing Schemathesis from ${REQUIREMENTS_FILE} into ${venv} (one time, about a minute)`);
    // A virtualenv is not relocatable (its scripts name its own path), so it is built in place.
    rmSync(venv, { recursive: true, force: true });
    try {
      await run('python3', ['-m', 'venv', venv], { timeout: 5 * 60 * 1000 });
    } catch (error) {
      throw new Error(`could not create a Python virtualenv with python3 -m venv (on Debian: apt-get install python3-venv): ${String(error)}`, {
        cause: error,
      });
    }
    await run(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', REQUIREMENTS_FILE], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 15 * 60 * 1000,
    });
    writeFileSync(stamp, `${wanted}\n`);
    return executable;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
