import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureGoRoundTrip,
  ensurePineconePython,
  ensurePineconePython7,
  PYTHON7_ROUND_TRIP,
  PYTHON_ROUND_TRIP,
  runClient,
  type ClientRun,
} from './pinecone-clients.ts';
import { freePortRange, startServer, tempDataDir, type ServerProcess } from './server-process.ts';

/**
 * The official Pinecone clients of Python (pinecone 10.2.0, and the grpcio-based pinecone[grpc]
 * 7.3.0) and Go (go-pinecone v5.2.0), used
 * unchanged, against a server process as `npm start` runs it: each creates an index on the control
 * plane, then runs a whole data-plane round trip over gRPC — plaintext HTTP/2 on the index's own
 * port, the `host` describe_index answers — checking every answer (e2e/pinecone-clients/). Python
 * also reaches the same host over REST and through the legacy PineconeGRPC client.
 *
 * Each program prints a JSON summary of its steps and exits 1 when any failed; a failure here lists
 * the failed steps, the program's output and the end of the server's. The clients are installed on
 * first use (a virtualenv, a `go build`: a minute or two, once per machine) by ./pinecone-clients.ts.
 */

/** How long one client's round trip may take (a few seconds when it goes well). */
const ROUND_TRIP_TIMEOUT_MS = 5 * 60 * 1000;
/** An install on a fresh machine (pip, Go modules) plus the round trip. */
const TEST_TIMEOUT_MS = 20 * 60 * 1000;

interface Summary {
  passed: number;
  failed: number;
  steps: { step: string; ok: boolean; error?: string }[];
}

/** The JSON summary a client printed last on stdout, if it got that far. */
function summaryOf(stdout: string): Summary | undefined {
  const start = stdout.lastIndexOf('\n{');
  try {
    return JSON.parse(start === -1 ? stdout : stdout.slice(start + 1)) as Summary;
  } catch {
    return undefined;
  }
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

describe('official Pinecone clients over gRPC against a Conifer server process', () => {
  let server: ServerProcess;
  let dataDir: string;
  let indexPorts: string;

  beforeAll(async () => {
    dataDir = await tempDataDir();
    // A few ports of their own for the indexes (each index is served on one); two indexes are made.
    const ports = await freePortRange(16);
    indexPorts = `${ports.first}-${ports.last}`;
    // Ports are the default index hosts only with a fixed CONIFER_PORT: the test server listens on
    // any free port (CONIFER_PORT=0), so they are asked for.
    server = await startServer({ dataDir, env: { CONIFER_INDEX_HOSTS: 'ports', CONIFER_INDEX_PORTS: indexPorts } });
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  /** Runs a client's round trip against `index`, failing with everything needed to see why. */
  async function roundTrip(label: string, command: string, args: string[], index: string): Promise<Summary> {
    const env = { CONIFER_URL: server.url, CONIFER_API_KEY: server.apiKey, CONIFER_INDEX: index, CONIFER_INDEX_PORTS: indexPorts };
    const result: ClientRun = await runClient(command, args, env, ROUND_TRIP_TIMEOUT_MS);
    const summary = summaryOf(result.stdout);
    if (result.code !== 0 || summary === undefined || result.timedOut) {
      const failed = summary?.steps.filter((s) => !s.ok).map((s) => `  - ${s.step}: ${s.error}`) ?? [];
      expect.fail(
        [
          result.timedOut ? `${label} was killed after ${ROUND_TRIP_TIMEOUT_MS / 1000} s` : `${label} exited with ${result.code ?? result.signal}`,
          ...(failed.length > 0 ? [`failed steps (${failed.length}):`, ...failed] : ['no summary printed']),
          '--- stdout',
          result.stdout,
          '--- stderr',
          result.stderr,
          '--- server output (last 40 lines)',
          tail(server.output(), 40),
        ].join('\n'),
      );
    }
    console.log(`${label}: ${summary.passed} steps passed`);
    return summary;
  }

  it(
    'Python pinecone 10.2.0: pc.index(grpc=True), PineconeGRPC().Index() and REST on the index host',
    async () => {
      const python = await ensurePineconePython((line) => console.log(line));
      const summary = await roundTrip('python round_trip.py', python, [PYTHON_ROUND_TRIP], 'py-grpc');
      expect(summary.failed).toBe(0);
      expect(summary.passed).toBeGreaterThanOrEqual(20);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Python pinecone[grpc] 7.3.0 (grpcio): PineconeGRPC().Index(host without its scheme, secure=False), as with Pinecone Local',
    async () => {
      const python = await ensurePineconePython7((line) => console.log(line));
      const summary = await roundTrip('python7 round_trip.py', python, [PYTHON7_ROUND_TRIP], 'py7-grpc');
      expect(summary.failed).toBe(0);
      expect(summary.passed).toBe(8);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Go go-pinecone v5.2.0: pc.Index(NewIndexConnParams{Host: <http:// host>})',
    async () => {
      const binary = await ensureGoRoundTrip((line) => console.log(line));
      const summary = await roundTrip('go round trip', binary, [], 'go-grpc');
      expect(summary.failed).toBe(0);
      expect(summary.passed).toBeGreaterThanOrEqual(18);
    },
    TEST_TIMEOUT_MS,
  );
});
