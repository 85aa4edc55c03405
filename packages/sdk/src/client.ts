import { Index } from './index-client.ts';
import { createTransport, type ConiferOptions, type Transport } from './transport.ts';
import type { ConfigureIndexOptions, CreateIndexOptions, IndexDescription, IndexList } from './types.ts';

/**
 * Client of a Conifer server. Every failure is thrown as an error class of `@conifer/core`
 * (`NotFoundError`, `InvalidArgumentError`, ...), or `ConnectionError` when the server is unreachable.
 *
 * @example
 * const client = new Conifer({ url: 'http://127.0.0.1:5080', apiKey });
 * await client.createIndex({ name: 'docs', dimension: 3, metric: 'cosine' });
 */
export class Conifer {
  readonly #transport: Transport;

  constructor(options: ConiferOptions) {
    this.#transport = createTransport(options);
  }

  /** Base URL of the server. */
  get url(): string {
    return this.#transport.url;
  }

  /**
   * Creates an index. The name is unique in the project (`AlreadyExistsError` otherwise).
   *
   * @example await client.createIndex({ name: 'docs', dimension: 384, metric: 'cosine', tags: { team: 'search' } });
   */
  createIndex(options: CreateIndexOptions): Promise<IndexDescription> {
    return this.#transport.call((api) => api.indexes.create.mutate(options));
  }

  /**
   * Every index of the project.
   *
   * @example const { indexes } = await client.listIndexes();
   */
  listIndexes(): Promise<IndexList> {
    return this.#transport.call((api) => api.indexes.list.query());
  }

  /**
   * One index's description. Unknown name → `NotFoundError`.
   *
   * @example const { dimension, metric, status } = await client.describeIndex('docs');
   */
  describeIndex(name: string): Promise<IndexDescription> {
    return this.#transport.call((api) => api.indexes.describe.query({ name }));
  }

  /**
   * Changes deletion protection and/or merges tags (a tag set to "" is removed).
   *
   * @example await client.configureIndex('docs', { deletionProtection: 'enabled', tags: { env: 'prod' } });
   */
  configureIndex(name: string, options: ConfigureIndexOptions): Promise<IndexDescription> {
    return this.#transport.call((api) => api.indexes.configure.mutate({ ...options, name }));
  }

  /**
   * Deletes an index and all its data. Deletion protection on → `PermissionDeniedError`.
   *
   * @example await client.deleteIndex('docs');
   */
  async deleteIndex(name: string): Promise<void> {
    await this.#transport.call((api) => api.indexes.delete.mutate({ name }));
  }

  /**
   * A handle on an index's default namespace; `.namespace(name)` targets another one.
   *
   * @example const ns = client.index('docs').namespace('ns1');
   */
  index(name: string, namespace?: string): Index {
    return new Index(this.#transport, name, namespace);
  }
}
