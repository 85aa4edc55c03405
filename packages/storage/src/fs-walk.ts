import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, toObjectStoreError } from './fs-errors.ts';

/** Longest file name most file systems accept (NAME_MAX), hence the longest key segment on disk. */
export const MAX_SEGMENT_BYTES = 255;

const SEGMENT = /^[\x21-\x2e\x30-\x7e]+$/; // printable ASCII without '/'

/** True when `name` could be one segment of a valid key (what readdir returns may be anything). */
export function isKeySegment(name: string): boolean {
  return name.length <= MAX_SEGMENT_BYTES && name !== '.' && name !== '..' && SEGMENT.test(name);
}

/**
 * Whether some valid key could start with `prefix`. When none can (a leading '/', an empty or '..'
 * segment, a space...), the listing is empty — and the prefix is never turned into a path that
 * could climb out of the root.
 */
export function isPossibleKeyPrefix(prefix: string, reservedTopSegment: string): boolean {
  if (prefix === '') return true;
  if (prefix.length > 1024) return false;
  const segments = prefix.split('/');
  const last = segments.pop()!;
  if (last !== '' && !(last.length <= MAX_SEGMENT_BYTES && SEGMENT.test(last))) return false;
  return segments.every(isKeySegment) && segments[0] !== reservedTopSegment;
}

interface Entry {
  /** The key of a file, or the key prefix (ending in '/') of a directory. */
  sortKey: string;
  isDir: boolean;
}

/**
 * Keys of the files under `root` that start with `prefix` and sort after `startAfter`, in
 * ascending byte order, read lazily: a page stops reading directories once it is full.
 *
 * Only the directories that can hold matching keys are read: the walk starts at the deepest
 * directory the prefix names in full ("a/b" starts in "a/", keeping entries that start with "b"),
 * and skips whole subtrees that sort before `startAfter`.
 *
 * Order: a directory "d" sorts as "d/", because every key inside it starts with "d/". That puts it
 * after a sibling file "d-x" ('-' < '/') and before "d0" ('/' < '0'), as byte order requires.
 */
export async function* walkKeys(root: string, prefix: string, startAfter: string | undefined, skipTopEntry: string): AsyncGenerator<string> {
  const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  yield* walkDir(root, base, prefix, startAfter, skipTopEntry);
}

async function* walkDir(root: string, base: string, prefix: string, startAfter: string | undefined, skipTopEntry: string): AsyncGenerator<string> {
  const entries: Entry[] = [];
  for (const dirent of await readdirOrEmpty(join(root, base))) {
    if (!isKeySegment(dirent.name) || (base === '' && dirent.name === skipTopEntry)) continue;
    if (dirent.isFile()) {
      const key = base + dirent.name;
      if (key.length > 1024 || !key.startsWith(prefix)) continue;
      if (startAfter !== undefined && key <= startAfter) continue;
      entries.push({ sortKey: key, isDir: false });
    } else if (dirent.isDirectory()) {
      const sub = `${base}${dirent.name}/`;
      if (!sub.startsWith(prefix) && !prefix.startsWith(sub)) continue;
      // Every key below `sub` starts with it: if `sub` sorts before `startAfter` without being a
      // prefix of it, the whole subtree does.
      if (startAfter !== undefined && sub <= startAfter && !startAfter.startsWith(sub)) continue;
      entries.push({ sortKey: sub, isDir: true });
    }
    // Symlinks, sockets and the like are not objects.
  }
  // Keys are ASCII: comparing UTF-16 code units is comparing bytes.
  entries.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
  for (const entry of entries) {
    if (entry.isDir) yield* walkDir(root, entry.sortKey, prefix, startAfter, skipTopEntry);
    else yield entry.sortKey;
  }
}

async function readdirOrEmpty(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    // Missing, or deleted by a concurrent delete that pruned empty directories.
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw toObjectStoreError(err, 'list', dir);
  }
}
