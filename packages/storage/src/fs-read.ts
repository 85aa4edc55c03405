import { open, type FileHandle } from 'node:fs/promises';
import { totalBytes } from './object-store.ts';

/** Bytes of an open file of `size` bytes from `start` into `buffers` in order (readv); how many were read. */
export async function readInto(handle: FileHandle, size: number, start: number, buffers: Uint8Array[]): Promise<number> {
  const want = Math.max(0, Math.min(size - start, totalBytes(buffers)));
  let done = 0;
  while (done < want) {
    // The buffers from where the last read stopped (a short read stops anywhere).
    const rest: Uint8Array[] = [];
    let skip = done;
    for (const buffer of buffers) {
      if (skip >= buffer.byteLength) {
        skip -= buffer.byteLength;
        continue;
      }
      rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
      skip = 0;
    }
    const { bytesRead } = await handle.readv(rest, start + done);
    if (bytesRead === 0) break; // cannot happen to an immutable file, but never spin
    done += bytesRead;
  }
  return done;
}

/** readInto over the file at `file`, opened for the read and closed after it. */
export async function readFileInto(file: string, size: number, start: number, buffers: Uint8Array[]): Promise<number> {
  const handle = await open(file, 'r');
  try {
    return await readInto(handle, size, start, buffers);
  } finally {
    await handle.close();
  }
}
