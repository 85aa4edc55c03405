/**
 * The cloud emulators from a shell.
 *
 *   node tools/emulators/src/cli.ts start [s3] [gcs] [azure]     runs them in the foreground; prints
 *                                                                 `export` lines, Ctrl-C stops them
 *   node tools/emulators/src/cli.ts start --detach [...]         starts them in the background and
 *                                                                 prints `export` lines, e.g.
 *                                                                 eval "$(node tools/emulators/src/cli.ts start --detach)"
 *   node tools/emulators/src/cli.ts stop                          stops what `start --detach` started
 *   node tools/emulators/src/cli.ts install                       installs the emulator binaries only
 *
 * Set CONIFER_S3_EMULATOR=moto to use moto instead of MinIO, CONIFER_EMULATORS=process|docker to
 * force a runtime.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureGoTool, ensureMoto, startEmulators, type Emulators, type EmulatorKind } from './index.ts';
import { REPO_ROOT } from './install.ts';

const STATE_DIR = join(REPO_ROOT, '.tools', 'emulators');
const STATE_FILE = join(STATE_DIR, 'detached.json');
const KINDS: readonly EmulatorKind[] = ['s3', 'gcs', 'azure'];

const log = (line: string) => process.stderr.write(`${line}\n`);

function exportsOf(emulators: Emulators): string {
  const lines = Object.entries(emulators.env).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  lines.push('# Point Conifer at one of them:');
  for (const e of emulators.all) lines.push(`#   export CONIFER_STORAGE=${e.storageUrl('dev')}   (${e.implementation} ${e.version}, ${e.endpoint})`);
  return lines.join('\n');
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function main(argv: string[]): Promise<void> {
  const [command = 'help', ...rest] = argv;
  const detach = rest.includes('--detach');
  const kinds = rest.filter((a): a is EmulatorKind => (KINDS as readonly string[]).includes(a));
  const selected = kinds.length > 0 ? kinds : KINDS;
  switch (command) {
    case 'install': {
      await Promise.all([ensureGoTool('minio', log), ensureGoTool('fake-gcs-server', log)]);
      log('conifer-emulators: minio and fake-gcs-server are installed');
      return;
    }
    case 'install-moto': {
      const { version } = await ensureMoto(log);
      log(`conifer-emulators: moto ${version} is installed`);
      return;
    }
    case 'start': {
      if (detach) {
        if (existsSync(STATE_FILE)) throw new Error(`emulators are already running in the background (${STATE_FILE}); run \`cli.ts stop\` first`);
        const emulators = await startEmulators(selected, { runtime: 'process', detached: true, log });
        mkdirSync(STATE_DIR, { recursive: true });
        writeFileSync(STATE_FILE, JSON.stringify({ dir: emulators.dir, pids: emulators.all.flatMap((e) => e.pids), env: emulators.env }, null, 2));
        console.log(exportsOf(emulators));
        return;
      }
      const emulators = await startEmulators(selected, { log });
      console.log(exportsOf(emulators));
      log('conifer-emulators: running; Ctrl-C stops them');
      const stop = async () => {
        await emulators.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
      setInterval(() => undefined, 1 << 30);
      return;
    }
    case 'stop': {
      if (!existsSync(STATE_FILE)) {
        log('conifer-emulators: nothing runs in the background');
        return;
      }
      const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as { dir?: string; pids?: number[] };
      const pids = state.pids ?? [];
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      if (state.dir) rmSync(state.dir, { recursive: true, force: true });
      rmSync(STATE_FILE, { force: true });
      log(`conifer-emulators: stopped ${pids.length} process(es)`);
      return;
    }
    default:
      console.log(
        readFileSync(new URL(import.meta.url), 'utf8')
          .split('*/')[0]!
          .replace(/^\/\*\*?\n?/, '')
          .replace(/^ \* ?/gm, ''),
      );
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  log(`conifer-emulators: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
