/**
 * True when `error` is a PostgreSQL unique violation (SQLSTATE 23505), optionally on the named
 * constraint or index. `pg` and PGlite both expose `code` and `constraint` on their errors.
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, constraint: name } = error as { code?: unknown; constraint?: unknown };
  return code === '23505' && (constraint === undefined || name === constraint);
}
