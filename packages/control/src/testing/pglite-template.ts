import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase } from '../database.ts';
import { migrateToLatest } from '../migrate.ts';
import { MIGRATIONS } from '../migrations/index.ts';

/**
 * A migrated, empty embedded control-plane database made once per machine, which tests copy
 * instead of creating their own. PGlite's initdb takes seconds of CPU (its WebAssembly Postgres
 * bootstraps the catalogue), and suites that start hundreds of control planes and servers would
 * spend most of their time in it. A copy is exactly what initdb plus the migrations leave behind:
 * the template is made by the same `openDatabase` + `migrateToLatest` a server runs on its first
 * start (and database.test.ts still tests that path on an empty directory every run).
 *
 * The template's name carries a hash of the PGlite version and of every migration's code, so a
 * new migration or PGlite gets a new template; it is built under a temporary name and renamed into
 * place, so concurrent test workers never see a half-made one.
 */

const execFileAsync = promisify(execFile);

let templateDir: Promise<string> | undefined;
let templateDump: Promise<Blob> | undefined;

/** A data directory holding the template (made on first use). */
export function pgliteTemplateDir(): Promise<string> {
  templateDir ??= makeTemplate();
  return templateDir;
}

/**
 * Makes an absent `dataDir` a copy of the template: a PGlite data directory as a first start leaves
 * it. A directory that exists (a restart's) is left as it is. coreutils' cp: fs.cp copies its
 * thousand small files several times slower.
 */
export async function seedPgliteDataDir(dataDir: string): Promise<void> {
  if (existsSync(dataDir)) return;
  const template = await pgliteTemplateDir();
  await mkdir(path.dirname(dataDir), { recursive: true });
  await execFileAsync('cp', ['-a', template, dataDir]);
}

/** The template as PGlite's `dumpDataDir` tarball, for an in-memory database (`pgliteDump`). */
export function pgliteTemplateDump(): Promise<Blob> {
  templateDump ??= (async () => {
    const file = `${await pgliteTemplateDir()}.tar`;
    if (!existsSync(file)) {
      // Dumped from a private copy: opening a database writes to its directory, and other workers
      // may be copying the template at that moment.
      await publish(file, async (tmp) => {
        const copy = `${tmp}.data`;
        try {
          await seedPgliteDataDir(copy);
          const pglite = await PGlite.create({ dataDir: copy });
          const dump = await pglite.dumpDataDir('none');
          await pglite.close();
          await writeFile(tmp, new Uint8Array(await dump.arrayBuffer()));
        } finally {
          await rm(copy, { recursive: true, force: true });
        }
      });
    }
    return new Blob([await readFile(file)]);
  })();
  return templateDump;
}

async function makeTemplate(): Promise<string> {
  const dir = path.join(tmpdir(), `conifer-pglite-template-${await templateKey()}`);
  if (existsSync(path.join(dir, 'PG_VERSION'))) return dir;
  await publish(dir, async (tmp) => {
    const db = await openDatabase({ dataDir: tmp });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
  });
  return dir;
}

/** Builds `target` under a temporary name beside it and renames it into place; a racing builder's result is as good. */
async function publish(target: string, build: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await build(tmp);
    await rename(tmp, target).catch((error: NodeJS.ErrnoException) => {
      // Another worker published first (a non-empty directory cannot be renamed over).
      if (!existsSync(target)) throw error;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function templateKey(): Promise<string> {
  const pglitePackage = path.join(path.dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))), '..', 'package.json');
  const version = (JSON.parse(await readFile(pglitePackage, 'utf8')) as { version: string }).version;
  const hash = createHash('sha256').update(`pglite ${version}\n`);
  for (const [name, migration] of Object.entries(MIGRATIONS)) hash.update(`${name}\n${String(migration.up)}\n${String(migration.down)}\n`);
  return hash.digest('hex').slice(0, 16);
}
