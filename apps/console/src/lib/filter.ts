import { formatPath, validateFilter, type Filter } from '@conifer/core';

/** Outcome of parsing the filter editor's text. */
export type FilterParse = { ok: true; filter: Filter | undefined } | { ok: false; error: string };

/**
 * Parses the filter editor: empty text is "no filter"; otherwise JSON that core's
 * `validateFilter` accepts (the server runs the same check, so what passes here passes there).
 *
 * @example parseFilterText('{"genre": {"$eq": "drama"}}') // { ok: true, filter: { genre: { $eq: 'drama' } } }
 */
export function parseFilterText(text: string): FilterParse {
  if (text.trim() === '') return { ok: true, filter: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not valid JSON: ${(error as Error).message}` };
  }
  const issues = validateFilter(value);
  if (issues.length > 0) {
    const described = issues.slice(0, 3).map((issue) => {
      const path = formatPath(issue.path);
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    return { ok: false, error: described.join('; ') };
  }
  return { ok: true, filter: value as Filter };
}
