import { fileURLToPath } from 'node:url';
import { FsObjectStore } from './fs-store.ts';
import { LazyObjectStore } from './lazy-store.ts';
import { MemoryObjectStore } from './memory-store.ts';
import type { ObjectStore } from './object-store.ts';
import { withRetries, type RetryOptions } from './retrying-store.ts';

export type Env = Record<string, string | undefined>;

export interface OpenObjectStoreOptions {
  /** Where the standard settings are read from. Default `process.env`. */
  env?: Env;
  /** Options of the `withRetries` wrapper around a cloud adapter; `false` returns the bare adapter. */
  retries?: RetryOptions | false;
}

/** A cloud location named by a storage URL, with the settings that apply to it. */
export type CloudLocation =
  | { kind: 's3'; bucket: string; prefix: string; endpoint: string | undefined; region: string | undefined; forcePathStyle: boolean }
  | { kind: 'gcs'; bucket: string; prefix: string; emulatorHost: string | undefined; projectId: string | undefined }
  | {
      kind: 'azure';
      container: string;
      prefix: string;
      /** Connection string auth (Azurite, account keys). */
      connectionString: string | undefined;
      /** Otherwise the account's blob endpoint, with DefaultAzureCredential (or the SAS in `sas`). */
      accountUrl: string | undefined;
      sas: string | undefined;
    };

/**
 * Opens the object store a URL names (`CONIFER_STORAGE`, a `--storage` flag):
 * - `file:///var/lib/conifer` or a plain path (absolute, or relative to the working directory) → local disk;
 * - `memory://` → a fresh, empty in-memory store (each call gets its own);
 * - `s3://bucket/prefix` → Amazon S3 or an S3-compatible service: credentials from the AWS chain,
 *   endpoint from `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, path-style addressing with
 *   `CONIFER_S3_FORCE_PATH_STYLE=true`, region from `AWS_REGION` / `AWS_DEFAULT_REGION`;
 * - `gs://bucket/prefix` → Google Cloud Storage: Application Default Credentials, or the emulator at
 *   `STORAGE_EMULATOR_HOST`; project from `GOOGLE_CLOUD_PROJECT`;
 * - `az://container/prefix` → Azure Blob Storage: `AZURE_STORAGE_CONNECTION_STRING`, or the account
 *   `AZURE_STORAGE_ACCOUNT` with DefaultAzureCredential;
 * - `https://<account>.blob.core.windows.net/container/prefix[?sas]` → the same, account from the host.
 *
 * Cloud stores come wrapped in `withRetries`. Their SDK is loaded on first use, so opening one is
 * cheap and configuration errors (a missing setting) are thrown here, at once.
 *
 * @example openObjectStore('file:///var/lib/conifer') // FsObjectStore rooted at /var/lib/conifer
 * @example openObjectStore('s3://my-bucket/conifer/prod') // S3, keys under conifer/prod/
 */
export function openObjectStore(url: string, options: OpenObjectStoreOptions = {}): ObjectStore {
  // Two or more letters, so that a Windows drive ("C:\data") reads as a path, not a scheme.
  const scheme = /^([a-z][a-z0-9+.-]+:)/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (url.trim() === '') throw new Error('object store URL is empty');
    return new FsObjectStore(url);
  }
  if (scheme === 'memory:') return new MemoryObjectStore();
  if (scheme === 'file:') {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw new Error(`invalid file URL ${JSON.stringify(url)}: expected file:///absolute/path`, { cause: err });
    }
    return new FsObjectStore(path);
  }
  const location = parseCloudUrl(url, options.env ?? process.env);
  if (!location) {
    throw new Error(
      `unsupported object store URL ${JSON.stringify(url)}: expected file:///path, a plain path, memory://, s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or https://<account>.blob.core.windows.net/container/prefix`,
    );
  }
  const env = options.env ?? process.env;
  const adapter = new LazyObjectStore(() => openCloudAdapter(location, env));
  return options.retries === false ? adapter : withRetries(adapter, options.retries);
}

/** The cloud location of `url` with its settings from `env`; `undefined` when `url` names no cloud. */
export function parseCloudUrl(url: string, env: Env = process.env): CloudLocation | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const path = decodeURIComponent(parsed.pathname).replace(/^\/+/, '');
  const scheme = parsed.protocol;
  if (scheme === 's3:' || scheme === 'gs:' || scheme === 'az:') {
    const bucket = parsed.hostname;
    if (bucket === '') throw new Error(`${JSON.stringify(url)} names no ${scheme === 'az:' ? 'container' : 'bucket'}: expected ${scheme}//name/prefix`);
    if (scheme === 's3:') {
      const endpoint = setting(env, 'AWS_ENDPOINT_URL_S3') ?? setting(env, 'AWS_ENDPOINT_URL');
      const region = setting(env, 'AWS_REGION') ?? setting(env, 'AWS_DEFAULT_REGION') ?? (endpoint ? 'us-east-1' : undefined);
      const forcePathStyle = /^(1|true|yes)$/i.test(setting(env, 'CONIFER_S3_FORCE_PATH_STYLE') ?? '');
      return { kind: 's3', bucket, prefix: path, endpoint, region, forcePathStyle };
    }
    if (scheme === 'gs:') {
      const host = setting(env, 'STORAGE_EMULATOR_HOST');
      const emulatorHost = host === undefined ? undefined : gcsEmulatorEndpoint(host);
      return { kind: 'gcs', bucket, prefix: path, emulatorHost, projectId: setting(env, 'GOOGLE_CLOUD_PROJECT') ?? setting(env, 'GCLOUD_PROJECT') };
    }
    const connectionString = setting(env, 'AZURE_STORAGE_CONNECTION_STRING');
    const account = setting(env, 'AZURE_STORAGE_ACCOUNT');
    if (!connectionString && !account) {
      throw new Error(`${JSON.stringify(url)}: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT for DefaultAzureCredential`);
    }
    return {
      kind: 'azure',
      container: bucket,
      prefix: path,
      connectionString,
      accountUrl: connectionString ? undefined : `https://${account}.blob.core.windows.net`,
      sas: undefined,
    };
  }
  if (scheme === 'https:' && /\.blob\.core\.windows\.net$/i.test(parsed.hostname)) {
    const [container = '', ...rest] = path.split('/');
    if (container === '') throw new Error(`${JSON.stringify(url)} names no container: expected https://<account>.blob.core.windows.net/container/prefix`);
    return {
      kind: 'azure',
      container,
      prefix: rest.join('/'),
      connectionString: undefined,
      accountUrl: `https://${parsed.hostname}`,
      sas: parsed.search === '' ? undefined : parsed.search.slice(1),
    };
  }
  return undefined;
}

/**
 * The endpoint `STORAGE_EMULATOR_HOST` names, in any of the forms the clouds' SDKs and emulators
 * document: `host:port` (Go and Python clients: plain HTTP), `http://host:port`, or that with the
 * JSON API path (`http://host:port/storage/v1`, as some Node examples write it). The path is dropped
 * because uploads and the JSON API live under different paths of the same endpoint.
 */
export function gcsEmulatorEndpoint(host: string): string {
  const withScheme = /^https?:\/\//i.test(host) ? host : `http://${host}`;
  return withScheme.replace(/\/+$/, '').replace(/\/storage\/v1$/, '');
}

function setting(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Builds the adapter of `location`, importing only its SDK. */
async function openCloudAdapter(location: CloudLocation, env: Env) {
  switch (location.kind) {
    case 's3': {
      const { S3ObjectStore } = await import('./s3-store.ts');
      const accessKeyId = setting(env, 'AWS_ACCESS_KEY_ID');
      const secretAccessKey = setting(env, 'AWS_SECRET_ACCESS_KEY');
      const sessionToken = setting(env, 'AWS_SESSION_TOKEN');
      return new S3ObjectStore({
        bucket: location.bucket,
        prefix: location.prefix,
        clientConfig: {
          maxAttempts: 1,
          ...(location.region ? { region: location.region } : {}),
          ...(location.endpoint ? { endpoint: location.endpoint } : {}),
          forcePathStyle: location.forcePathStyle,
          // Keys from `env` when it has them (tests pass their own env); otherwise the SDK's chain.
          ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
          requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
        },
      });
    }
    case 'gcs': {
      const { GcsObjectStore } = await import('./gcs-store.ts');
      return new GcsObjectStore({
        bucket: location.bucket,
        prefix: location.prefix,
        storageOptions: {
          retryOptions: { autoRetry: false, maxRetries: 0 },
          ...(location.projectId ? { projectId: location.projectId } : {}),
          ...(location.emulatorHost ? { apiEndpoint: location.emulatorHost, projectId: location.projectId ?? 'conifer-emulator' } : {}),
        },
      });
    }
    case 'azure': {
      const { AzureBlobObjectStore, AZURE_PIPELINE_OPTIONS } = await import('./azure-store.ts');
      if (location.connectionString)
        return AzureBlobObjectStore.fromConnectionString(location.connectionString, location.container, { prefix: location.prefix });
      const { AnonymousCredential, ContainerClient } = await import('@azure/storage-blob');
      const containerUrl = `${location.accountUrl}/${encodeURIComponent(location.container)}`;
      if (location.sas) {
        return new AzureBlobObjectStore({
          prefix: location.prefix,
          containerClient: new ContainerClient(`${containerUrl}?${location.sas}`, new AnonymousCredential(), AZURE_PIPELINE_OPTIONS),
        });
      }
      const { DefaultAzureCredential } = await import('@azure/identity');
      return new AzureBlobObjectStore({
        prefix: location.prefix,
        containerClient: new ContainerClient(containerUrl, new DefaultAzureCredential(), AZURE_PIPELINE_OPTIONS),
      });
    }
  }
}
