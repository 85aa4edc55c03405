/** Display helpers of the Cluster page. */

export const JOB_STATES = ['pending', 'running', 'done', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** `?state=` of the page: one known job state, or undefined (every state). */
export function jobStateParam(value: string | string[] | undefined): JobState | undefined {
  return typeof value === 'string' && (JOB_STATES as readonly string[]).includes(value) ? (value as JobState) : undefined;
}

/** Badge class of a job state: finished green, failed red, the rest plain. */
export function jobStateBadge(state: string): string {
  return state === 'done' ? 'badge green' : state === 'failed' ? 'badge red' : 'badge';
}

/**
 * Whether the membership is the single process: every live node has all four roles (then each
 * owns every namespace it writes and there are no query replicas).
 */
export function isSingleProcess(nodes: readonly { roles: readonly string[]; live: boolean }[]): boolean {
  const live = nodes.filter((n) => n.live);
  return live.length > 0 && live.every((n) => ['gateway', 'writer', 'query', 'indexer'].every((role) => n.roles.includes(role)));
}

/** A replica's lag in LSNs: "caught up" at 0, "—" when unknown or there is no replica. */
export function formatLag(lagLsn: number | null): string {
  if (lagLsn === null) return '—';
  if (lagLsn === 0) return 'caught up';
  return `${lagLsn.toLocaleString('en-US')} LSN${lagLsn === 1 ? '' : 's'} behind`;
}

/** An LSN, version or epoch that may be unknown (the node did not answer): "—". */
export function orDash(value: number | null): string {
  return value === null ? '—' : value.toLocaleString('en-US');
}
