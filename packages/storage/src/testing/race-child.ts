/**
 * A child process for the cross-process race tests of FsObjectStore (run directly by Node, which
 * strips the types). It opens the store, prints "ready", waits for "go" on stdin so that every
 * child starts at the same moment, runs its part of the race and prints one JSON line of results.
 *
 *   node race-child.ts put-if-absent <root> <keyPrefix> <keys> <writerId>
 *     → {"won": [indexes of the keys this writer created]}
 *   node race-child.ts increment <root> <key> <times>
 *     → {"conflicts": n}   (compare-and-swap increments of a decimal counter)
 */
import { createInterface } from 'node:readline';
import { FsObjectStore } from '../fs-store.ts';
import { isPreconditionFailed } from '../object-store.ts';

const [mode, root, key, countArg, writerId] = process.argv.slice(2);
const count = Number(countArg);
if (!mode || !root || !key || !Number.isInteger(count)) {
  console.error('usage: race-child.ts put-if-absent|increment <root> <key> <count> [writerId]');
  process.exit(2);
}
const store = new FsObjectStore(root);

async function putIfAbsentRace(): Promise<object> {
  const won: number[] = [];
  for (let i = 0; i < count; i++) {
    try {
      await store.putIfAbsent(`${key}/${i}`, new TextEncoder().encode(String(writerId)));
      won.push(i);
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
    }
  }
  return { won };
}

async function incrementRace(): Promise<object> {
  let conflicts = 0;
  for (let done = 0; done < count;) {
    const current = await store.get(key!);
    if (!current) throw new Error(`counter ${key} is missing`);
    const next = String(Number(new TextDecoder().decode(current.data)) + 1);
    try {
      await store.putIfMatch(key!, new TextEncoder().encode(next), current.etag);
      done++;
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      conflicts++;
    }
  }
  return { conflicts };
}

const lines = createInterface({ input: process.stdin });
console.log('ready');
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  const result = mode === 'increment' ? await incrementRace() : await putIfAbsentRace();
  console.log(JSON.stringify(result));
  break;
}
lines.close();
