import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ALL_SETTINGS, SETTING_GROUPS, type Setting } from './settings.ts';

/** The documents whose settings tables are generated from the registry. */
export const README_FILE = fileURLToPath(new URL('../../../README.md', import.meta.url));
export const OPERATIONS_FILE = fileURLToPath(new URL('../../../docs/operations.md', import.meta.url));

export const BEGIN_MARKER = '<!-- settings:begin (generated from apps/server/src/settings.ts by `node apps/server/src/write-settings-docs.ts`) -->';
export const END_MARKER = '<!-- settings:end -->';

const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
const sentence = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** README.md's table: every setting, its default and one line. */
export function renderReadmeSettings(): string {
  return [row(['variable', 'default', 'meaning']), row(['---', '---', '---']), ...ALL_SETTINGS.map((s) => row([`\`${s.env}\``, s.defaultText, s.doc]))].join(
    '\n',
  );
}

/** docs/operations.md's tables: one per group, with accepted values and trade-offs. */
export function renderOperationsSettings(): string {
  const meaning = (s: Setting<unknown>): string => (s.tuning === undefined ? `${sentence(s.doc)}.` : `${sentence(s.doc)}. ${s.tuning}`);
  return SETTING_GROUPS.map((group) =>
    [
      `### ${sentence(group)}`,
      '',
      row(['variable', 'default', 'accepts', 'meaning']),
      row(['---', '---', '---', '---']),
      ...ALL_SETTINGS.filter((s) => s.group === group).map((s) => row([`\`${s.env}\``, s.defaultText, s.accepts, meaning(s)])),
    ].join('\n'),
  ).join('\n\n');
}

/** `document` with what lies between the markers replaced by `content`; throws when a marker is missing. */
export function replaceBetweenMarkers(document: string, content: string, file: string): string {
  const begin = document.indexOf(BEGIN_MARKER);
  const end = document.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`${file}: no ${BEGIN_MARKER} … ${END_MARKER} block`);
  return `${document.slice(0, begin + BEGIN_MARKER.length)}\n${content}\n${document.slice(end)}`;
}

/** Each generated document as it should be checked in. */
export async function renderSettingsDocs(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [file, content] of [
    [README_FILE, renderReadmeSettings()],
    [OPERATIONS_FILE, renderOperationsSettings()],
  ] as const) {
    out.set(file, replaceBetweenMarkers(await readFile(file, 'utf8'), content, file));
  }
  return out;
}

// `node apps/server/src/write-settings-docs.ts` regenerates the settings tables of README.md and
// docs/operations.md.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [file, text] of await renderSettingsDocs()) {
    await writeFile(file, text);
    process.stdout.write(`wrote ${file}\n`);
  }
}
