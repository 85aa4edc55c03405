/** Where a command writes: results to stdout (JSON with `--json`), messages and progress to stderr. */
export interface Output {
  json: boolean;
  /** The result of a command: as JSON with `--json`, else as `human` renders it. */
  result(value: unknown, human?: (value: never) => string): void;
  /** A message for people (stderr), never mixed into results. */
  note(message: string): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(value, human) {
      if (json || !human) stdout.write(`${JSON.stringify(value, null, json ? undefined : 2)}\n`);
      else {
        const text = human(value as never);
        if (text) stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      }
    },
    note(message) {
      stderr.write(`${message}\n`);
    },
  };
}

/** Rows as aligned columns under a header, for people; scripts use `--json`. */
export function table(headers: string[], rows: (string | number | boolean | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : (cell ?? '').padEnd(widths[i]!))).join('  ')).join('\n');
}
