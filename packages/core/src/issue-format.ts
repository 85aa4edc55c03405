/**
 * How field issues read in messages: "records[3].values: must have at most 20000 dimensions (got 20001)".
 * Kept free of imports: the errors that use it ship in the SDK, which must not carry zod.
 */

/** Renders schema issues as "records[3].values: must have at most 20000 dimensions (got 20001)". */
export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = formatPath(issue.path);
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
