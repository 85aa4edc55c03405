/**
 * Upsert bodies for the XL benchmark, written byte by byte into a Buffer. Ten million 128-d
 * records are 14 GB of JSON: too much to encode before the clock starts, and `toPrecision` per
 * value as the load generator goes would take a core of the two the server runs on. So the
 * dataset's values are put on a grid of 1/4096 (exact in float32) and each grid value's JSON text,
 * nine significant digits as the other sizes send them, is looked up in a table: the bodies have
 * the size and shape of the other sizes' bodies, for a fraction of the encoding work.
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
  readonly #text: Uint8Array;
  readonly #start: Uint32Array;
  readonly #half = TABLE_RANGE * GRID;

  constructor() {
    const count = 2 * this.#half + 1;
    const parts: string[] = new Array(count);
    for (let k = -this.#half; k <= this.#half; k++) parts[k + this.#half] = float32Json(k / GRID);
    this.#start = new Uint32Array(count + 1);
    for (let i = 0; i < count; i++) this.#start[i + 1] = this.#start[i]! + parts[i]!.length;
    this.#text = Buffer.from(parts.join(''), 'latin1');
  }

  /**
   * `{"vectors":[{"id":"<row>","values":[…],"metadata":{"bucket":<b>}},…]}` for rows [start, end)
   * of row-major `vectors` (already on the grid), into a new Buffer; throws past `maxBytes`.
   */
  upsertBody(vectors: Float32Array, buckets: Uint8Array, dimension: number, start: number, end: number, maxBytes: number): Buffer {
    // Room for one row past the limit: a row is written, then checked.
    const out = Buffer.allocUnsafe(maxBytes + dimension * 32 + 256);
    let at = out.write('{"vectors":[', 0, 'latin1');
    for (let row = start; row < end; row++) {
      at += out.write(`${row === start ? '' : ','}{"id":"${row}","values":[`, at, 'latin1');
      for (let d = 0; d < dimension; d++) {
        if (d > 0) out[at++] = 44; // ','
        const value = vectors[row * dimension + d]!;
        const k = Math.round(value * GRID) + this.#half;
        if (k >= 0 && k < this.#start.length - 1 && (k - this.#half) / GRID === value) {
          const from = this.#start[k]!;
          const to = this.#start[k + 1]!;
          for (let i = from; i < to; i++) out[at++] = this.#text[i]!;
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
