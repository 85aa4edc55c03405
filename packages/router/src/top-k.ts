/**
 * Keeps the k best hits seen so far in a binary heap whose root is the worst kept hit, so each
 * new candidate costs one comparison when it does not make the cut.
 */
export class TopK<T extends { score: number; id: string }> {
  readonly #k: number;
  readonly #better: (a: T, b: T) => number;
  readonly #heap: T[] = [];

  /** `compare` orders best first (negative when a is better). */
  constructor(k: number, compare: (a: T, b: T) => number) {
    this.#k = k;
    this.#better = compare;
  }

  /** Whether a hit with this score could enter (ties are decided by id in `push`). */
  push(hit: T): void {
    const heap = this.#heap;
    if (heap.length < this.#k) {
      heap.push(hit);
      this.#up(heap.length - 1);
    } else if (this.#better(hit, heap[0]!) < 0) {
      heap[0] = hit;
      this.#down(0);
    }
  }

  /** The worst hit kept once k are kept (what a new hit must beat), else undefined. */
  worst(): T | undefined {
    return this.#heap.length < this.#k ? undefined : this.#heap[0];
  }

  /** Best first. */
  sorted(): T[] {
    return [...this.#heap].sort(this.#better);
  }

  // The heap is ordered worst-at-root: parent is "worse" (compares greater) than children.
  #up(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#better(heap[i]!, heap[parent]!) <= 0) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #down(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < heap.length && this.#better(heap[l]!, heap[worst]!) > 0) worst = l;
      if (r < heap.length && this.#better(heap[r]!, heap[worst]!) > 0) worst = r;
      if (worst === i) return;
      [heap[i], heap[worst]] = [heap[worst]!, heap[i]!];
      i = worst;
    }
  }
}
