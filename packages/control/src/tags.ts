/**
 * Applies a tag patch: each entry sets a tag, an entry whose value is "" removes it.
 *
 * @example mergeTags({ a: '1', b: '2' }, { b: '', c: '3' }) // { a: '1', c: '3' }
 */
export function mergeTags(current: Record<string, string>, patch: Record<string, string>): Record<string, string> {
  // A Map, not property assignment: a tag named `__proto__` must stay an ordinary tag.
  const merged = new Map(Object.entries(current));
  for (const [key, value] of Object.entries(patch)) {
    if (value === '') merged.delete(key);
    else merged.set(key, value);
  }
  return Object.fromEntries(merged);
}
