/**
 * The data operations the soak sends, behind one interface with two faces: the repository's SDK
 * (tRPC) and the Pinecone REST API through plain fetch. Each face turns its failures into one
 * `ApiError` carrying the HTTP status, or none when no response arrived.
 */
import type { Filter, Metadata } from './filter.ts';

/** How the data operations reach the server: its two client faces, or (the simulation) the engine in process. */
export type Face = 'sdk' | 'rest' | 'engine';

export interface ApiRecord {
  id: string;
  values: number[];
  metadata: Metadata;
}

export interface QueryMatch {
  id: string;
  score: number;
  values?: number[];
  metadata?: Metadata;
}

export interface QueryRequest {
  vector: number[];
  topK: number;
  filter?: Filter;
  includeValues: boolean;
  includeMetadata: boolean;
}

export interface Page<T> {
  items: T[];
  next?: string;
}

export interface NamespaceSummary {
  /** `""` for the default namespace, whatever the face calls it. */
  name: string;
  recordCount: number;
}

export interface DataApi {
  readonly face: Face;
  upsert(index: string, namespace: string, records: ApiRecord[]): Promise<void>;
  /** Resolves with the number of records the update matched (0 or 1). */
  update(index: string, namespace: string, update: { id: string; values?: number[]; setMetadata?: Metadata }): Promise<number>;
  deleteIds(index: string, namespace: string, ids: string[]): Promise<void>;
  deleteByFilter(index: string, namespace: string, filter: Filter): Promise<void>;
  deleteAll(index: string, namespace: string): Promise<void>;
  deleteNamespace(index: string, namespace: string): Promise<void>;
  /** The records found, by id; missing ids are absent. */
  fetch(index: string, namespace: string, ids: string[]): Promise<Map<string, { values: number[]; metadata: Metadata }>>;
  query(index: string, namespace: string, query: QueryRequest): Promise<QueryMatch[]>;
  listIds(index: string, namespace: string, options: { limit: number; paginationToken?: string }): Promise<Page<string>>;
  listNamespaces(index: string, options: { limit: number; paginationToken?: string }): Promise<Page<NamespaceSummary>>;
  /** Record count of one namespace; `ApiError` with status 404 when it does not exist. */
  describeNamespace(index: string, namespace: string): Promise<number>;
}

/** A failed call: `status` is the HTTP status, `undefined` when no response arrived (refused, reset, timed out). */
export class ApiError extends Error {
  readonly status: number | undefined;
  readonly face: Face;
  constructor(face: Face, status: number | undefined, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.face = face;
    this.status = status;
  }
}

/** Longest a request may take before it counts as lost (a hung server is a finding, not a stall). */
export const REQUEST_TIMEOUT_MS = 60_000;

/** `fetch` with the request deadline, for the SDK's clients. */
export const timedFetch: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

/** Every page of a paginated listing. */
export async function listAllPages<T>(page: (paginationToken: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const p = await page(token);
    all.push(...p.items);
    token = p.next;
  } while (token !== undefined);
  return all;
}
