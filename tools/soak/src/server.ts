/**
 * The server under test: `node apps/server/src/main.ts` (what `npm start` runs) as a child process,
 * configured only through its environment, on a port fixed for the whole run so that clients keep
 * their URL across restarts. A package never imports an app: the server is started by path.
 *
 * The controller knows whether the server is up, and counts disruptions (every stop begun, every
 * unexpected exit), so a client can tell a request the soak's own restart cut off from an error
 * of a healthy server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER_ENTRY = join(REPO_ROOT, 'apps/server/src/main.ts');

export type StopKind = 'clean' | 'kill';

export interface ServerLogSummary {
  errors: number;
  warnings: number;
  /** The first error lines (pino level ≥ 50, or lines that are not JSON and not the listening line). */
  firstErrors: string[];
}

export interface ServerControllerOptions {
  port: number;
  env: Record<string, string>;
  /** Everything the server prints goes here, each generation after a header line. */
  logFile: string;
  startTimeoutMs?: number;
  /** How long a SIGTERM may take before the server is killed (and that counted as a finding). */
  stopTimeoutMs?: number;
  /** Called when the server exits without being asked to; the controller starts it again. */
  onUnexpectedExit?: (detail: string) => void;
  /** Called each time a generation is up (healthy). */
  onUp?: (generation: number) => void;
}

export class ServerController {
  readonly url: string;
  readonly #options: ServerControllerOptions;
  readonly #log: WriteStream;
  #child: ChildProcess | undefined;
  #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
  #state: 'down' | 'starting' | 'up' | 'stopping' = 'down';
  #generation = 0;
  #disruptions = 0;
  #waiters: (() => void)[] = [];
  #closed = false;
  #restarting: Promise<void> | undefined;
  readonly #logSummary: ServerLogSummary = { errors: 0, warnings: 0, firstErrors: [] };

  constructor(options: ServerControllerOptions) {
    this.#options = options;
    this.url = `http://127.0.0.1:${options.port}`;
    this.#log = createWriteStream(options.logFile, { flags: 'a' });
  }

  /** Starts of the server so far; a client that saw generation g before a failure waits for a later one. */
  get generation(): number {
    return this.#generation;
  }

  /** Stops begun and unexpected exits so far. */
  get disruptions(): number {
    return this.#disruptions;
  }

  get isUp(): boolean {
    return this.#state === 'up';
  }

  /** Process id while the server runs. */
  get pid(): number | undefined {
    return this.#state === 'up' ? this.#child?.pid : undefined;
  }

  get logSummary(): ServerLogSummary {
    return this.#logSummary;
  }

  /** Resolves once the server is up (at once if it is). */
  whenUp(): Promise<void> {
    if (this.#state === 'up' || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async start(): Promise<void> {
    if (this.#closed) throw new Error('server controller closed');
    this.#state = 'starting';
    this.#log.write(`\n===== soak: server generation ${this.#generation + 1} starting at ${new Date().toISOString()} =====\n`);
    const child = spawn(process.execPath, [SERVER_ENTRY], { cwd: REPO_ROOT, env: this.#options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let pending = '';
    // Health is asked only once this process says it listens: another program on the port must not pass for it.
    let listening = false;
    const onData = (chunk: Buffer) => {
      this.#log.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('Conifer listening on')) listening = true;
        this.#classify(line);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.#exited.then(({ code, signal }) => {
      if (this.#child !== child || this.#closed) return;
      if (this.#state === 'up') this.#unexpectedExit(`server exited unexpectedly (code ${code}, signal ${signal})`);
    });
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 120_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.#state = 'down';
        throw new Error(`server exited during start (code ${child.exitCode}, signal ${child.signalCode}); see ${this.#options.logFile}`);
      }
      if (listening && (await healthy(this.url))) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        this.#state = 'down';
        throw new Error(`server did not become healthy in time; see ${this.#options.logFile}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    this.#generation++;
    this.#state = 'up';
    this.#options.onUp?.(this.#generation);
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  /**
   * Stops the server: `clean` sends SIGTERM and waits for it to drain, flush and exit; `kill`
   * sends SIGKILL. Returns how the process ended; a clean stop that had to be forced says so.
   */
  async stop(kind: StopKind): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
    this.#disruptions++;
    this.#state = 'stopping';
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.#state = 'down';
      return { ...(await this.#exited), forced: false };
    }
    child.kill(kind === 'clean' ? 'SIGTERM' : 'SIGKILL');
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      child.kill('SIGKILL');
    }, this.#options.stopTimeoutMs ?? 120_000);
    const result = await this.#exited;
    clearTimeout(timer);
    this.#state = 'down';
    return { ...result, forced };
  }

  /** Waits for an automatic restart after an unexpected exit, if one is under way. */
  async settled(): Promise<void> {
    await this.#restarting;
  }

  /** Gives up on the server (it cannot be started): whoever waits for it is released. */
  abandon(): void {
    this.#closed = true;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  async close(): Promise<void> {
    await this.#restarting;
    if (this.#state === 'up' || this.#state === 'starting') await this.stop('clean');
    this.#closed = true;
    await new Promise<void>((resolve) => this.#log.end(resolve));
  }

  #unexpectedExit(detail: string): void {
    this.#disruptions++;
    this.#state = 'down';
    this.#options.onUnexpectedExit?.(detail);
    this.#restarting = this.start().catch((err: unknown) => {
      this.#options.onUnexpectedExit?.(`restart after an unexpected exit failed: ${String(err)}`);
    });
  }

  #classify(line: string): void {
    if (line.trim() === '' || line.startsWith('Conifer listening on')) return;
    let level = 50;
    try {
      const parsed = JSON.parse(line) as { level?: unknown };
      if (typeof parsed.level === 'number') level = parsed.level;
    } catch {
      // not a log line: printed outside the logger, treated as an error
    }
    if (level >= 50) {
      this.#logSummary.errors++;
      if (this.#logSummary.firstErrors.length < 10) this.#logSummary.firstErrors.push(line.slice(0, 2000));
    } else if (level >= 40) this.#logSummary.warnings++;
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
