/**
 * Upsert bodies for the XL benchmark, written byte by byte into a Buffer. Ten million 128-d
 * records are 14 GB of JSON: too much to encode before the clock starts, and `toPrecision` per
 * value as the load generator goes would take a core of the two the server runs on. So the
 * dataset's values are put on a grid of 1/4096 (exact in float32) and each grid value's JSON text,
 * nine significant digits as the other sizes send them, is looked up in a table and stored a word
 * at a time: the bodies have the size and shape of the other sizes' bodies, for a fraction of the
 * encoding work.
 */
import { float32Json } from './json-body.ts';

/** Grid steps per unit: values are multiples of 1/GRID. */
export const GRID = 4096;
/** The table covers |value| < TABLE_RANGE; anything beyond is encoded on the spot. */
const TABLE_RANGE = 64;

/** Rounds every value to the grid, in place (the dataset then holds exactly what the bodies say). */
export function snapToGrid(values: Float32Array): void {
  // `+ 0` turns -0 into 0: JSON has no negative zero to send.
  for (let i = 0; i < values.length; i++) values[i] = Math.round(values[i]! * GRID) / GRID + 0;
}

export class GridJsonEncoder {
  /** Each grid value's JSON text, padded to SLOT bytes, as little-endian 32-bit words. */
  readonly #words: Uint32Array;
  readonly #length: Uint8Array;
  readonly #half = TABLE_RANGE * GRID;

  constructor() {
    const count = 2 * this.#half + 1;
    this.#words = new Uint32Array(count * WORDS);
    this.#length = new Uint8Array(count);
    const bytes = new Uint8Array(this.#words.buffer);
    for (let k = -this.#half; k <= this.#half; k++) {
      const text = float32Json(k / GRID);
      if (text.length > SLOT) throw new Error(`grid value ${k / GRID} takes more than ${SLOT} bytes`);
      const slot = k + this.#half;
      for (let i = 0; i < text.length; i++) bytes[slot * SLOT + i] = text.charCodeAt(i);
      this.#length[slot] = text.length;
    }
  }

  /**
   * `{"vectors":[{"id":"<row>","values":[…],"metadata":{"bucket":<b>}},…]}` for rows [start, end)
   * of row-major `vectors` (already on the grid), into a new Buffer; throws past `maxBytes`.
   */
  upsertBody(vectors: Float32Array, buckets: Uint8Array, dimension: number, start: number, end: number, maxBytes: number): Buffer {
    // Room for one row past the limit (a row is written, then checked), and for a slot's padding.
    const out = Buffer.allocUnsafe(maxBytes + dimension * 32 + 256);
    // A value's text goes in as whole words, its padding overwritten by what follows: a few
    // stores per value rather than a loop over its bytes.
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const words = this.#words;
    const length = this.#length;
    const half = this.#half;
    let at = out.write('{"vectors":[', 0, 'latin1');
    for (let row = start; row < end; row++) {
      at += out.write(`${row === start ? '' : ','}{"id":"${row}","values":[`, at, 'latin1');
      for (let d = 0; d < dimension; d++) {
        if (d > 0) out[at++] = 44; // ','
        const value = vectors[row * dimension + d]!;
        const scaled = value * GRID;
        const k = scaled + half;
        if (Number.isInteger(scaled) && k >= 0 && k < length.length) {
          const w = k * WORDS;
          view.setUint32(at, words[w]!, true);
          view.setUint32(at + 4, words[w + 1]!, true);
          view.setUint32(at + 8, words[w + 2]!, true);
          view.setUint32(at + 12, words[w + 3]!, true);
          at += length[k]!;
        } else {
          at += out.write(float32Json(value), at, 'latin1');
        }
      }
      at += out.write(`],"metadata":{"bucket":${buckets[row]}}}`, at, 'latin1');
      if (at + 2 > maxBytes) throw new Error(`rows ${start}–${end} exceed the ${maxBytes}-byte request limit`);
    }
    at += out.write(']}', at, 'latin1');
    return out.subarray(0, at);
  }
}

/** Bytes a grid value's text may take (the longest, such as -0.000244140625, take 15). */
const SLOT = 16;
const WORDS = SLOT / 4;
