/** Counters of one namespace's background work since it was opened (the console shows them). */
export interface NamespaceStats {
  flushes: number;
  compactions: number;
  gcDeleted: number;
  flushErrors: number;
}
