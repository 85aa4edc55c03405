import cliProgress from 'cli-progress';
import type { RecordsSource } from './records-reader.ts';

export interface Progress {
  /** `upserted` records acknowledged so far; the bar shows how much of the file has been read. */
  update(upserted: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr while a file is upserted: only on a terminal, and never with `--json`
 * (scripts read results from stdout and need no animation in their logs).
 */
export function startProgress(stderr: NodeJS.WritableStream & { isTTY?: boolean }, source: RecordsSource, enabled: boolean): Progress {
  if (!enabled || !stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr,
      format: `{bar} {percentage}% of the file | {upserted} records upserted | {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(1, source.total), 0, { upserted: 0 });
  return {
    update: (upserted) => bar.update(Math.min(source.total, source.done()), { upserted }),
    stop: () => {
      bar.update(Math.min(source.total, source.done()));
      bar.stop();
    },
  };
}
