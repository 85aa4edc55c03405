/**
 * A fixed-size set of row numbers as packed bits, LSB first within each byte — the layout faiss's
 * IDSelectorBitmap reads (`bitmap[i >> 3] & (1 << (i & 7))`), so a filter's result can be handed to
 * an ANN search without conversion. Word-wise operations make AND/OR of postings cheap.
 */
export class Bitset {
  readonly size: number;
  readonly words: Uint32Array;

  constructor(size: number, words?: Uint32Array) {
    this.size = size;
    this.words = words ?? new Uint32Array((size + 31) >>> 5);
  }

  static full(size: number): Bitset {
    const b = new Bitset(size);
    b.words.fill(0xffffffff);
    b.#clearTail();
    return b;
  }

  static fromRows(size: number, rows: ArrayLike<number>): Bitset {
    const b = new Bitset(size);
    for (let i = 0; i < rows.length; i++) b.set(rows[i]!);
    return b;
  }

  /** The bits as bytes (shares memory), for native code. */
  get bytes(): Uint8Array {
    return new Uint8Array(this.words.buffer, this.words.byteOffset, (this.size + 7) >>> 3);
  }

  has(row: number): boolean {
    return (this.words[row >>> 5]! & (1 << (row & 31))) !== 0;
  }

  set(row: number): void {
    this.words[row >>> 5]! |= 1 << (row & 31);
  }

  clear(row: number): void {
    this.words[row >>> 5]! &= ~(1 << (row & 31));
  }

  clone(): Bitset {
    return new Bitset(this.size, this.words.slice());
  }

  /** In place: this ∩ other. */
  and(other: Bitset): this {
    for (let i = 0; i < this.words.length; i++) this.words[i]! &= other.words[i]!;
    return this;
  }

  /** In place: this ∪ other. */
  or(other: Bitset): this {
    for (let i = 0; i < this.words.length; i++) this.words[i]! |= other.words[i]!;
    return this;
  }

  /** In place: this \ other. */
  andNot(other: Bitset): this {
    for (let i = 0; i < this.words.length; i++) this.words[i]! &= ~other.words[i]!;
    return this;
  }

  /** In place: complement within [0, size). */
  not(): this {
    for (let i = 0; i < this.words.length; i++) this.words[i] = ~this.words[i]!;
    this.#clearTail();
    return this;
  }

  count(): number {
    let n = 0;
    for (let i = 0; i < this.words.length; i++) {
      let w = this.words[i]!;
      w -= (w >>> 1) & 0x55555555;
      w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
      n += (((w + (w >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    return n;
  }

  /** Calls `fn` for every set row, ascending. */
  forEach(fn: (row: number) => void): void {
    for (let i = 0; i < this.words.length; i++) {
      let w = this.words[i]!;
      while (w !== 0) {
        const bit = 31 - Math.clz32(w & -w);
        fn((i << 5) + bit);
        w &= w - 1;
      }
    }
  }

  #clearTail(): void {
    const tail = this.size & 31;
    if (tail !== 0) this.words[this.words.length - 1]! &= (2 ** tail - 1) >>> 0;
  }
}
