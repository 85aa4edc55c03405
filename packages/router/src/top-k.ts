/** What the order of hits reads. */
export interface ScoredId {
  score: number;
  id: string;
}

/**
 * Keeps the k best hits seen so far in a binary heap whose root is the worst kept hit, so each
 * new candidate costs one comparison when it does not make the cut.
 */
export class TopK<T extends ScoredId> {
  readonly #k: number;
  readonly #better: (a: ScoredId, b: ScoredId) => number;
  readonly #heap: T[] = [];
  /** What `admits` compares, reused: asking allocates nothing. */
  readonly #probe: ScoredId = { score: 0, id: '' };

  /** `compare` orders best first (negative when a is better), by score and id alone. */
  constructor(k: number, compare: (a: ScoredId, b: ScoredId) => number) {
    this.#k = k;
    this.#better = compare;
  }

  /**
   * Whether `push` would keep a hit of this score and id now. A search asks before it builds a
   * candidate: most rows a scan offers do not make the cut, and their objects were garbage.
   */
  admits(score: number, id: string): boolean {
    const heap = this.#heap;
    if (heap.length < this.#k) return true;
    this.#probe.score = score;
    this.#probe.id = id;
    return this.#better(this.#probe, heap[0]!) < 0;
  }

  /** Offers a hit: it is kept while it is among the k best offered so far (ties decided by id). */
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
