import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ControlPlane } from '@conifer/control';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';

/** File the generated admin key is written to, inside the data directory. */
export const ADMIN_KEY_FILE = 'admin-api-key';

export interface BootstrapOutcome {
  projectId: string;
  /** The admin key this start generated (never one given in CONIFER_API_KEY); absent otherwise. */
  generatedKey?: string;
  /** Where the generated key was written. */
  keyFile?: string;
}

/**
 * Makes sure the default project and an admin key exist. A key generated now is shown exactly
 * once: printed to `out` (stdout, outside the JSON logger, so it never reaches log aggregation)
 * and written to `<dataDir>/admin-api-key` with mode 0600. Nothing else ever prints or logs a key.
 */
export async function bootstrapAdmin(
  control: ControlPlane,
  config: Pick<ServerConfig, 'apiKey' | 'dataDir'>,
  logger: Logger,
  out: { write(text: string): unknown } = process.stdout,
): Promise<BootstrapOutcome> {
  const result = await control.bootstrap({ apiKey: config.apiKey });
  const outcome: BootstrapOutcome = { projectId: result.project.id };
  if (result.apiKey === undefined) return outcome;
  if (config.apiKey !== undefined) {
    logger.info('registered the admin API key given in CONIFER_API_KEY');
    return outcome;
  }
  const keyFile = path.join(config.dataDir, ADMIN_KEY_FILE);
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(keyFile, `${result.apiKey}\n`, { mode: 0o600 });
  await chmod(keyFile, 0o600); // `mode` applies only when the file is created
  out.write(adminKeyBanner(result.apiKey, keyFile));
  logger.info({ keyFile }, 'generated an admin API key (printed once on stdout, saved to the key file)');
  return { ...outcome, generatedKey: result.apiKey, keyFile };
}

/** The boxed notice printed once when an admin key is generated. */
export function adminKeyBanner(key: string, keyFile: string): string {
  const lines = [
    'Conifer admin API key (shown only this once):',
    '',
    `  ${key}`,
    '',
    `Also saved to ${keyFile} (mode 0600).`,
    'Send it in the Api-Key header, or as Authorization: Bearer <key>.',
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '─'.repeat(width + 2);
  return ['', `┌${bar}┐`, ...lines.map((l) => `│ ${l.padEnd(width)} │`), `└${bar}┘`, '', ''].join('\n');
}
