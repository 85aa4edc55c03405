#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { run } from './program.ts';

// `conifer …`: Ctrl-C stops an upsert after its requests in flight, and it says where to resume.
/** This package's version: its manifest is one level up from the sources, two from the published build. */
function version(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === '@conifer/cli' && manifest.version) return manifest.version;
    } catch {
      // not there: try the next
    }
  }
  return 'unknown';
}

const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort());
process.exitCode = await run(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: interrupt.signal,
  version: version(),
});
