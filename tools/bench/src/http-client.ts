/**
 * A minimal JSON-over-HTTP client for the load generator: node:http with a keep-alive agent, so
 * each of the N concurrent callers reuses its own TCP connection (no handshake per request), and
 * nothing between the caller and the socket but one JSON.parse of the response.
 */
import { Agent, request } from 'node:http';

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed body (undefined when empty). */
  body: unknown;
}

export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown, what: string) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
    this.name = 'HttpError';
    this.status = status;
    this.body = body;
  }
}

/** The server closed a kept-alive connection just as a request was sent on it. */
class StaleConnectionError extends Error {
  constructor(cause: Error) {
    super('kept-alive connection closed by the server', { cause });
    this.name = 'StaleConnectionError';
  }
}

export class JsonClient {
  readonly #agent: Agent;
  readonly #base: URL;
  readonly #apiKey: string;

  constructor(base: string, apiKey: string, options: { maxSockets?: number } = {}) {
    this.#base = new URL(base);
    this.#apiKey = apiKey;
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  }

  /**
   * Sends `body` (already JSON) and parses the answer; any status is returned, not thrown. A
   * request that went out on a kept-alive connection the server closed at that moment (its idle
   * timeout, e.g. after a long settle wait) is sent again once on a new one, as Node's documentation
   * advises; every request the benchmark sends is idempotent. `headers` go out beside the API key
   * (e.g. a read's consistency headers).
   */
  async send(method: 'GET' | 'POST', path: string, body?: string | Buffer, headers?: Record<string, string>): Promise<JsonResponse> {
    try {
      return await this.#sendOnce(method, path, body, headers);
    } catch (err) {
      if (err instanceof StaleConnectionError) return this.#sendOnce(method, path, body, headers);
      throw err;
    }
  }

  #sendOnce(method: 'GET' | 'POST', path: string, body?: string | Buffer, extraHeaders?: Record<string, string>): Promise<JsonResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.#agent,
          host: this.#base.hostname,
          port: this.#base.port,
          method,
          path,
          headers: {
            ...extraHeaders,
            'Api-Key': this.#apiKey,
            ...(body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? undefined : (JSON.parse(text) as unknown) });
            } catch (err) {
              reject(new Error(`${method} ${path}: HTTP ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`, { cause: err }));
            }
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(req.reusedSocket && err.code === 'ECONNRESET' ? new StaleConnectionError(err) : err);
      });
      req.end(body);
    });
  }

  /** Like send, but a status other than 2xx throws an HttpError. */
  async call(method: 'GET' | 'POST', path: string, body?: string | Buffer, headers?: Record<string, string>): Promise<unknown> {
    const res = await this.send(method, path, body, headers);
    if (res.status < 200 || res.status >= 300) throw new HttpError(res.status, res.body, `${method} ${path}`);
    return res.body;
  }

  close(): void {
    this.#agent.destroy();
  }
}
