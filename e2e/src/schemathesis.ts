import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureVenv, pinnedVersion } from '@conifer/emulators';
import { REPO_ROOT } from './server-process.ts';

/** The pinned Schemathesis and all it depends on, one `name==version` a line. */
export const REQUIREMENTS_FILE = join(REPO_ROOT, 'e2e/api-fuzz/requirements.txt');

/** The Schemathesis version the requirements pin, e.g. "4.32.5". */
export function schemathesisVersion(requirements = readFileSync(REQUIREMENTS_FILE, 'utf8')): string {
  return pinnedVersion(REQUIREMENTS_FILE, 'schemathesis', requirements);
}

/**
 * The `schemathesis` executable, installed first when missing or installed from other
 * requirements, into `<TOOLS_BIN>/schemathesis-<version>` (@conifer/emulators' python-venv.ts).
 */
export async function ensureSchemathesis(log: (line: string) => void = () => undefined): Promise<string> {
  const venv = await ensureVenv({ name: `schemathesis-${schemathesisVersion()}`, requirementsFile: REQUIREMENTS_FILE, what: 'Schemathesis', log });
  return join(venv, 'bin', 'schemathesis');
}
