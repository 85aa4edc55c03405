/**
 * How many rows × dimensions one query may still scan exactly, over all the layers it searches.
 * A layer that fits is scanned exactly (every row: the best recall); once the allowance is spent,
 * a layer with an index or row groups is searched by them. A layer with neither is scanned exactly
 * whatever is left. Judged per layer alone, a namespace written at full speed — its memtable,
 * frozen ones waiting to flush, small flushed slabs — had several layers each just under the
 * budget, and a query scanned several budgets' worth exactly.
 */
export class ExactAllowance {
  #left: number;

  constructor(budget: number) {
    this.#left = budget;
  }

  /**
   * Whether to scan a layer of `floats` (eligible rows × dimension) exactly; `searchable`: it has
   * an index or groups to use instead. `share` of what is left is all such a layer may take.
   */
  exact(floats: number, searchable: boolean, share = 1): boolean {
    if (searchable && floats > this.#left * share) return false;
    this.#left -= floats;
    return true;
  }
}
