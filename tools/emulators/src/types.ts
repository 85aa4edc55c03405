export type EmulatorKind = 's3' | 'gcs' | 'azure';

interface EmulatorBase {
  /** Which program serves it (`minio`, `moto`, `fake-gcs-server`, `azurite`) and how (`process`, `docker`). */
  implementation: string;
  version: string;
  runtime: 'process' | 'docker';
  /** Process ids of a local emulator (empty for containers). */
  pids: number[];
  /** Base URL of the emulator's API on the loopback interface. */
  endpoint: string;
  /** The standard settings that point Conifer (and the cloud SDKs) at this emulator. */
  env: Record<string, string>;
  /** A storage URL for `CONIFER_STORAGE` / `openObjectStore` in the emulator's bucket, under `prefix`. */
  storageUrl(prefix?: string): string;
  stop(): Promise<void>;
}

export interface S3Emulator extends EmulatorBase {
  kind: 's3';
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

export interface GcsEmulator extends EmulatorBase {
  kind: 'gcs';
  projectId: string;
  bucket: string;
}

export interface AzureEmulator extends EmulatorBase {
  kind: 'azure';
  accountName: string;
  accountKey: string;
  connectionString: string;
  container: string;
}

export type Emulator = S3Emulator | GcsEmulator | AzureEmulator;

export interface StartOptions {
  /** `process` (local programs), `docker` (testcontainers) or `auto`: docker when `docker info` answers. Default: `CONIFER_EMULATORS` or `auto`. */
  runtime?: 'auto' | 'process' | 'docker';
  /** S3 server: `minio` (default when Go is available or it is installed) or `moto`. Default: `CONIFER_S3_EMULATOR` or `auto`. */
  s3?: 'auto' | 'minio' | 'moto';
  /**
   * Azurite release to run as a local process: an exact version, `oldest` (`AZURITE_OLDEST`, the
   * oldest the contract suite passes against) or `current` (the root devDependency). Default:
   * `CONIFER_AZURITE_VERSION` or `current`. Containers run the image `CONIFER_AZURITE_IMAGE` names.
   */
  azurite?: string;
  /**
   * Where a local Azurite keeps blobs: `memory` (default where the release has it, 3.28+) or `disk`
   * (a scratch directory). Long runs want `disk`: in memory, Azurite 3.37 stopped answering about
   * ten minutes into two soak runs — when its periodic extent GC (every 10 minutes) first runs —
   * for longer than a client's retries last.
   */
  azuritePersistence?: 'memory' | 'disk';
  /** Bucket / container created in each emulator. Default `conifer-test`. */
  bucket?: string;
  /** Progress messages (installs). Default: stderr. */
  log?: (line: string) => void;
  /** Leave the processes running after this process exits (`cli.ts start --detach`). */
  detached?: boolean;
}

export const DEFAULT_BUCKET = 'conifer-test';
