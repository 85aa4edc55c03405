import { createServer } from 'node:net';
import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { DB_DATA_PROTO } from './data-plane.ts';

/** Tests only: a plain grpc-js client of Pinecone's VectorService, as any generated client calls it. */
export type VectorClient = Client &
  Record<string, (request: object, metadata: Metadata, callback: (error: ServiceError | null, response: unknown) => void) => unknown>;

export function vectorClient(address: string): VectorClient {
  const definition = loadPackageDefinition(loadSync(DB_DATA_PROTO, { longs: Number, defaults: true, oneofs: true })) as unknown as {
    VectorService: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => VectorClient;
  };
  return new definition.VectorService(address, credentials.createInsecure());
}

/** One unary call; resolves to the response and the response's initial metadata. */
export function call<T = Record<string, unknown>>(
  client: VectorClient,
  method: string,
  request: object,
  apiKey: string,
  extra: Record<string, string> = {},
): Promise<{ response: T; metadata: Metadata }> {
  const metadata = new Metadata();
  metadata.set('api-key', apiKey);
  for (const [name, value] of Object.entries(extra)) metadata.set(name, value);
  return new Promise((resolve, reject) => {
    let received = new Metadata();
    const pending = client[method]!(request, metadata, (error, response) =>
      error ? reject(error) : resolve({ response: response as T, metadata: received }),
    ) as {
      on(event: 'metadata', listener: (m: Metadata) => void): void;
    };
    pending.on('metadata', (m) => {
      received = m;
    });
  });
}

/** `count` consecutive ports of 127.0.0.1 that are free now, away from the ephemeral range. */
export async function freePortRange(count: number): Promise<{ first: number; last: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = Array.from({ length: count }, (_, i) => first + i);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return { first, last: first + count - 1 };
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => resolve(true)));
  });
}
